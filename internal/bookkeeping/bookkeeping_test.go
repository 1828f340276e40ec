package bookkeeping

import (
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func answer(outbound ...string) *snapshot.Snapshot {
	s := &snapshot.Snapshot{FetchedAt: t0, ControlPlane: snapshot.ControlPlane{Outbound: snapshot.Regions{"aws": {"us-east-1": ipset.MustParse(outbound...)}}}}
	s.Seal()
	return s
}

func TestRecordOf(t *testing.T) {
	prev := answer("192.0.2.1")
	prev.Targets = map[string]snapshot.TargetRecord{"k": {Type: "kms-key-policy", Resource: "key-1", Source: ipset.MustParse("192.0.2.1"), Written: ipset.MustParse("192.0.2.1"),
		Departed: []snapshot.Departure{{Since: t0, Addresses: ipset.MustParse("192.0.2.9")}}}}
	for _, tc := range []struct {
		name   string
		prev   *snapshot.Snapshot
		target config.Target
		want   bool
	}{
		{"no snapshot", nil, config.Target{Name: "k", Type: kmspolicy.Type, Resource: "key-1"}, false},
		{"same target", prev, config.Target{Name: "k", Type: kmspolicy.Type, Resource: "key-1"}, true},
		{"points elsewhere now", prev, config.Target{Name: "k", Type: kmspolicy.Type, Resource: "key-2"}, false},
		{"another type now", prev, config.Target{Name: "k", Type: vpcepolicy.Type, Resource: "key-1"}, false},
		{"new target", prev, config.Target{Name: "n", Type: kmspolicy.Type, Resource: "key-1"}, false},
	} {
		rec := RecordOf(tc.prev, tc.target)
		if (rec != nil) != tc.want {
			t.Errorf("%s: record %+v, want one: %v", tc.name, rec, tc.want)
		}
		if rec != nil && (!rec.Written.Equal(ipset.MustParse("192.0.2.1")) || len(rec.Departed) != 1 || !rec.Departed[0].Since.Equal(t0)) {
			t.Errorf("%s: record %+v", tc.name, rec)
		}
	}
}

// Next keeps a failed target's old record (so the next run retries it),
// records the ones in sync, keeps an unchanged record's time stamp, ends
// the lease and keeps the blocks and trigger stamps.
func TestNext(t *testing.T) {
	prev := answer("192.0.2.1")
	prev.Lease = &snapshot.Lease{Holder: "me", Until: t0.Add(time.Minute)}
	prev.Seen = map[string]time.Time{"schedule": t0}
	prev.Blocked = map[string]snapshot.Block{"b": {Since: t0, Reason: "rolled back"}}
	old := snapshot.TargetRecord{Type: "kms-key-policy", Resource: "r", Source: ipset.MustParse("192.0.2.1"), Written: ipset.MustParse("192.0.2.1"), UpdatedAt: t0}
	prev.Targets = map[string]snapshot.TargetRecord{"failed": old, "same": old}
	later := t0.Add(time.Hour)
	record := plan.Record{Source: ipset.MustParse("192.0.2.1"), Written: ipset.MustParse("192.0.2.1")}
	targets := []plan.TargetPlan{
		{Target: plan.Target{Name: "failed", Type: kmspolicy.Type, Resource: "r"}, Status: plan.Error},
		{Target: plan.Target{Name: "same", Type: kmspolicy.Type, Resource: "r"}, Status: plan.InSync, NewRecord: record},
		{Target: plan.Target{Name: "new", Type: kmspolicy.Type, Resource: "r"}, Status: plan.Applied, NewRecord: plan.Record{Source: ipset.MustParse("192.0.2.2"), Written: ipset.MustParse("192.0.2.2")}},
	}
	next := Next(prev, answer("192.0.2.2"), targets, map[string]snapshot.Block{"c": {Since: later}}, later)
	if next.Lease != nil || len(next.Blocked) != 2 || !next.Seen["schedule"].Equal(t0) {
		t.Fatalf("lease %v, blocks %v, seen %v", next.Lease, next.Blocked, next.Seen)
	}
	if got := next.Targets["failed"]; !got.UpdatedAt.Equal(t0) || !got.Written.Equal(old.Written) {
		t.Errorf("failed target's record %+v, want the old one", got)
	}
	if got := next.Targets["same"]; !got.UpdatedAt.Equal(t0) {
		t.Errorf("unchanged record restamped: %+v", got)
	}
	if got := next.Targets["new"]; !got.UpdatedAt.Equal(later) || !got.Written.Equal(ipset.MustParse("192.0.2.2")) {
		t.Errorf("new record %+v", got)
	}
}

func TestChanged(t *testing.T) {
	a := answer("192.0.2.1")
	b := *a
	b.FetchedAt = t0.Add(time.Hour)
	if Changed(a, &b) {
		t.Error("a later fetch of the same answer counts as a change")
	}
	b.RunAlert = "failed"
	if !Changed(a, &b) {
		t.Error("new alert memory is no change")
	}
	if !Changed(a, answer("192.0.2.2")) {
		t.Error("a new answer is no change")
	}
}

func TestAlertStateRoundTrip(t *testing.T) {
	st := notify.State{Run: "failed", Targets: map[string]notify.AlertState{"run": "refused"}}
	targets, run := StoredAlerts(st)
	s := answer("192.0.2.1")
	s.Alerts, s.RunAlert = targets, run
	if got := AlertState(s); !got.Equal(st) {
		t.Fatalf("round trip %+v, want %+v", got, st)
	}
	if targets, run := StoredAlerts(notify.State{}); targets != nil || run != "" {
		t.Fatalf("empty state stored as %v %q", targets, run)
	}
}

// Seen stamps the trigger when the snapshot is written anyway or the stamp
// is older than the heartbeat, and otherwise leaves it, so a run with
// nothing to do writes nothing.
func TestSeen(t *testing.T) {
	prev := answer("192.0.2.1")
	prev.Seen = map[string]time.Time{"schedule": t0, "webhook": t0}
	same := *prev
	if got := Seen(prev, &same, "schedule", t0.Add(time.Hour)); !got["schedule"].Equal(t0) {
		t.Errorf("a fresh stamp was rewritten: %v", got)
	}
	if got := Seen(prev, &same, "schedule", t0.Add(snapshot.SeenHeartbeat)); !got["schedule"].Equal(t0.Add(snapshot.SeenHeartbeat)) || !got["webhook"].Equal(t0) {
		t.Errorf("a stale stamp was kept: %v", got)
	}
	changed := *prev
	changed.RunAlert = "failed"
	if got := Seen(prev, &changed, "schedule", t0.Add(time.Minute)); !got["schedule"].Equal(t0.Add(time.Minute)) {
		t.Errorf("a written snapshot did not stamp the trigger: %v", got)
	}
	if got := Seen(prev, &same, "", t0.Add(time.Hour*24)); !got["schedule"].Equal(t0) {
		t.Errorf("no trigger stamped something: %v", got)
	}
}

// A target's set is published when it is in sync and its set is not the
// one last published; the record carries what was published.
func TestUnpublished(t *testing.T) {
	set := ipset.MustParse("192.0.2.1/32")
	tp := func(name string, s plan.Status) plan.TargetPlan {
		return plan.TargetPlan{Target: plan.Target{Name: name, Type: "kms-key-policy", Resource: "r"}, Status: s, NewRecord: plan.Record{Source: set, Written: set}}
	}
	targets := []plan.TargetPlan{tp("new", plan.Applied), tp("same", plan.InSync), tp("failed", plan.Error)}
	prev := answer("192.0.2.1")
	prev.Targets = map[string]snapshot.TargetRecord{
		"same":   {Type: "kms-key-policy", Resource: "r", Source: set, Written: set, Published: snapshot.SetHash(set)},
		"failed": {Type: "kms-key-policy", Resource: "r", Source: set, Written: ipset.MustParse("192.0.2.9/32")},
	}
	next := Next(prev, answer("192.0.2.1"), targets, nil, time.Unix(0, 0))
	var names []string
	for _, u := range Unpublished(next, targets) {
		names = append(names, u.Name)
	}
	if strings.Join(names, ",") != "new" || next.Targets["same"].Published != snapshot.SetHash(set) {
		t.Fatalf("unpublished %v; same published %q", names, next.Targets["same"].Published)
	}
}
