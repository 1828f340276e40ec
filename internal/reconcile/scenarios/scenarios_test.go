package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
)

func TestFirstApplyThenNoOp(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		before := k.OutsideNow(t, s)
		r := s.Run(t, reconcile.Options{})
		if r.Err != nil || r.Targets[0].Status != plan.Applied || !r.Targets[0].FirstRun {
			t.Fatalf("first run: %+v %v", r.Targets, r.Err)
		}
		if k.Recorded && !strings.Contains(r.Targets[0].Reason, "owns none of the vault's IP rules yet") {
			t.Fatalf("first run's reason %q", r.Targets[0].Reason)
		}
		if got := k.Live(t, s); got != reconciletest.Desired3 {
			t.Fatalf("owned part holds %q, want %q", got, reconciletest.Desired3)
		}
		if after := k.OutsideNow(t, s); !reflect.DeepEqual(before, after) {
			t.Fatalf("what ipsync does not own changed:\nbefore %v\nafter  %v", before, after)
		}
		if n := k.Writes(s); n != 1 {
			t.Fatalf("%s calls = %d, want 1", k.WriteOp, n)
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "applied" {
			t.Fatalf("alerts %q, want applied", got)
		}

		// The second run: nothing to do, the minimum of calls, no write at all.
		s.Calls.Reset()
		s.Sim.ResetCounts()
		plan2 := s.Run(t, reconcile.Options{DryRun: true})
		if plan2.Status != plan.InSync {
			t.Fatalf("plan after apply: %s %+v", plan2.Status, plan2.Targets)
		}
		s.Calls.Reset()
		s.Sim.ResetCounts()
		r2 := s.Run(t, reconcile.Options{})
		if r2.Err != nil || r2.Status != plan.InSync {
			t.Fatalf("second run: %s %v", r2.Status, r2.Err)
		}
		wantCalls := map[string]int{"GetObject": 1}
		for _, op := range k.Reads() {
			wantCalls[op] = 1
		}
		for op, n := range wantCalls {
			if s.Calls.Get(op) != n || s.Calls.Total() != len(wantCalls) {
				t.Fatalf("AWS calls of a no-op run: %d total, %d %s; want exactly %v", s.Calls.Total(), s.Calls.Get(op), op, wantCalls)
			}
		}
		if s.Sim.Calls(atlastest.ControlPlane) != 1 || s.Sim.Calls(atlastest.GroupIPs) != 1 {
			t.Fatalf("Atlas calls: control plane %d, projects %d; want 1 and 1", s.Sim.Calls(atlastest.ControlPlane), s.Sim.Calls(atlastest.GroupIPs))
		}
		if got := s.Alerts(t); len(got) != 0 {
			t.Fatalf("a no-op run alerted: %v", reconciletest.Events(got))
		}
	})
}

func TestDriftIsCorrected(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		if r := s.Run(t, reconcile.Options{}); r.Err != nil {
			t.Fatal(r.Err)
		}
		s.Alerts(t)
		// Someone adds an address by hand and drops one of Atlas's.
		k.SetOwnedTo(t, s, "3.92.113.229/32", "3.212.79.116/32", "198.51.100.10/32", "203.0.113.66/32")
		s.Calls.Reset()
		r := s.Run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied || !tp.Drift {
			t.Fatalf("drift run: %+v %v", tp, r.Err)
		}
		// Where ipsync owns only what it wrote, the rule added by hand is
		// the human's: left alone.
		wantRemove := "[203.0.113.66/32]"
		if k.Recorded {
			wantRemove = "[]"
			if !strings.Contains(k.GetLive(t, s), "203.0.113.66/32") {
				t.Fatalf("the rule a human added went: %s", k.GetLive(t, s))
			}
		}
		if tp.Add.String() != "[34.193.91.42/32]" || tp.Remove.String() != wantRemove {
			t.Fatalf("add %v remove %v", tp.Add, tp.Remove)
		}
		if got := k.Live(t, s); got != reconciletest.Desired3 {
			t.Fatalf("after correction: %s", got)
		}
		msgs := s.Alerts(t)
		if reconciletest.Events(msgs) != "drift" || !k.Recorded && !strings.Contains(msgs[0].Message, "- 203.0.113.66/32") || !strings.Contains(msgs[0].Message, "+ 34.193.91.42/32") {
			t.Fatalf("alerts %q: %+v", reconciletest.Events(msgs), msgs)
		}
		if len(msgs[0].Subject) > 100 || !strings.Contains(msgs[0].Subject, "target") {
			t.Fatalf("subject %q", msgs[0].Subject)
		}
	})
}

func TestAdditionsAtOnceRemovalsAfterGrace(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		if r := s.Run(t, reconcile.Options{}); r.Err != nil {
			t.Fatal(r.Err)
		}
		// Atlas adds one address and drops another.
		s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "44.210.7.7"))
		s.Advance(time.Hour)
		r := s.Run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied || tp.Add.String() != "[44.210.7.7/32]" || !tp.Remove.IsEmpty() || tp.Kept.String() != "[34.193.91.42/32]" {
			t.Fatalf("change run: %+v %v", tp, r.Err)
		}
		live := k.Live(t, s)
		if !strings.Contains(live, "44.210.7.7/32") || !strings.Contains(live, "34.193.91.42/32") {
			t.Fatalf("live %s", live)
		}
		// 23 hours later: still kept. Then past 24 hours: removed.
		s.Advance(23 * time.Hour)
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.InSync || r.Err != nil {
			t.Fatalf("inside the grace: %s %+v %v", r.Status, r.Targets, r.Err)
		}
		s.Advance(time.Hour)
		r = s.Run(t, reconcile.Options{})
		if tp := r.Targets[0]; r.Err != nil || tp.Status != plan.Applied || tp.Remove.String() != "[34.193.91.42/32]" {
			t.Fatalf("after the grace: %+v %v", tp, r.Err)
		}
		if live := k.Live(t, s); strings.Contains(live, "34.193.91.42") {
			t.Fatalf("removed address still live: %s", live)
		}
	})
}

func TestEmptyAnswerIsRefused(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		if r := s.Run(t, reconcile.Options{}); r.Err != nil {
			t.Fatal(r.Err)
		}
		s.Alerts(t)
		store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
		before, _, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		liveBefore := k.GetLive(t, s)
		s.Sim.SetControlPlane(reconciletest.ControlPlane())
		s.Sim.SetProject(reconciletest.Project)
		s.Calls.Reset()
		r := s.Run(t, reconcile.Options{})
		if r.Status != plan.Refused || !strings.Contains(r.Targets[0].Reason, "minAddresses") {
			t.Fatalf("status %s: %+v", r.Status, r.Targets)
		}
		if n := k.Writes(s); n != 0 {
			t.Fatalf("%d policy writes on a refused run", n)
		}
		if k.GetLive(t, s) != liveBefore {
			t.Fatal("policy changed on a refused run")
		}
		after, _, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if after.Hash != before.Hash || !reflect.DeepEqual(after.Targets, before.Targets) || !after.FetchedAt.Equal(before.FetchedAt) {
			t.Fatal("the refused run changed Atlas's record in the snapshot")
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "refused" {
			t.Fatalf("alerts %q, want refused", got)
		}
		// The next scheduled run refuses again, and does not page again.
		s.Calls.Reset()
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.Refused {
			t.Fatalf("second refused run: %s", r.Status)
		}
		if got := s.Alerts(t); len(got) != 0 || s.Calls.Get("PutObject") != 0 {
			t.Fatalf("repeated refusal paged %q / wrote %d", reconciletest.Events(got), s.Calls.Get("PutObject"))
		}
		// Atlas answers again: recovered, once.
		s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42"))
		s.Sim.SetProject(reconciletest.Project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.InSync || r.Err != nil {
			t.Fatalf("recovery run: %s %v", r.Status, r.Err)
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "recovered" {
			t.Fatalf("alerts %q, want recovered", got)
		}
	})
}

func TestOversizeRefusedBeforeAnyWrite(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		var many []string
		for i := range k.TooMany {
			many = append(many, fmt.Sprintf("44.%d.%d.1", i/200, i%200+1))
		}
		s.Sim.SetControlPlane(reconciletest.ControlPlane(many...))
		r := s.Run(t, reconcile.Options{})
		if r.Status != plan.Refused || !strings.Contains(r.Targets[0].Reason, k.OversizeWant) {
			t.Fatalf("status %s: %v", r.Status, r.Targets[0].Reason)
		}
		if n := k.Writes(s); n != 0 {
			t.Fatalf("%d writes", n)
		}
		if s.Calls.Get("PutObject") != 0 {
			t.Fatal("snapshot written on a refused first run")
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "refused" {
			t.Fatalf("alerts %q, want refused", got)
		}
		// A second refused first run writes nothing either; with no snapshot
		// to remember the first alert in, it alerts again (docs/design.md, Decisions).
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.Refused {
			t.Fatalf("second run: %s", r.Status)
		}
		if s.Calls.Get("PutObject") != 0 || k.Writes(s) != 0 {
			t.Fatal("a second refused first run wrote")
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "refused" {
			t.Fatalf("second run's alerts %q, want refused", got)
		}
	})
}

// A fence without the part ipsync owns (a policy without the statement, an
// IP set of someone else) is an error that says what to do. A group's rules
// and a list's entries are never missing, only none yet: not here.
func TestMissingSidNamesTheStatementToAdd(t *testing.T) {
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool { return k.NotOwned != nil || k.SetLive != nil }, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		want := k.NotOwnedWant
		switch {
		case k.NotOwned != nil:
			k.NotOwned(t, s)
		case k.SetLive != nil:
			k.SetLive(t, s, strings.Replace(k.PolicyOf(k.Sid, "192.0.2.0/32"), `"Sid":`+fmt.Sprintf("%q", k.Sid), `"Sid":"SomethingElse"`, 1))
			k.SetLive(t, s, strings.Replace(k.GetLive(t, s), k.Sid, "SomethingElse", 1))
			want = []string{"no statement has this Sid", `"Sid": "` + k.Sid + `"`}
		}
		r := s.Run(t, reconcile.Options{})
		for _, w := range want {
			if r.Status != plan.Error || !strings.Contains(r.Targets[0].Reason, w) {
				t.Fatalf("status %s reason %q, want it to say %q", r.Status, r.Targets[0].Reason, w)
			}
		}
		if n := k.Writes(s); n != 0 {
			t.Fatalf("%d writes", n)
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "failed" {
			t.Fatalf("alerts %q, want failed", got)
		}
	})
}

func TestRacingRunsConverge(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		const runs = 2
		var wg sync.WaitGroup
		reports := make([]reconcile.Report, runs)
		for i := range runs {
			wg.Add(1)
			go func() { defer wg.Done(); reports[i] = s.Run(t, reconcile.Options{}) }()
		}
		wg.Wait()
		applied := 0
		for i, r := range reports {
			if r.Err != nil {
				t.Fatalf("run %d: %v", i, r.Err)
			}
			if r.Targets[0].Status == plan.Applied {
				applied++
			}
		}
		if applied != 1 || k.Writes(s) != 1 {
			t.Fatalf("%d runs applied with %d writes; want exactly one", applied, k.Writes(s))
		}
		if got := k.Live(t, s); got != reconciletest.Desired3 {
			t.Fatalf("final policy %s", got)
		}
		// No lost update: the stored snapshot holds the target's record.
		store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
		snap, _, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec, ok := snap.Targets["target"]
		if !ok || rec.Written.String() != "["+strings.ReplaceAll(sortedDesired(), " ", " ")+"]" {
			t.Fatalf("record %+v", rec)
		}
		// A third run finds everything in order.
		s.Calls.Reset()
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.InSync || k.Writes(s) != 0 {
			t.Fatalf("after the race: %s, %d writes", r.Status, k.Writes(s))
		}
	})
}

func sortedDesired() string {
	return ipset.MustParse(strings.Fields(reconciletest.Desired3)...).String()[1 : len(ipset.MustParse(strings.Fields(reconciletest.Desired3)...).String())-1]
}

func TestSavedPlan(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		moved, want := []string{"192.0.2.0/32", "192.0.2.99/32"}, "live policy changed since the plan (+[192.0.2.99/32]"
		if k.Recorded {
			// ipsync owns nothing before its first write, and a rule a
			// human adds is the human's: what moves is one of ipsync's
			// rules going, after a first apply.
			if r := s.Run(t, reconcile.Options{}); r.Err != nil {
				t.Fatal(r.Err)
			}
			s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"))
			moved, want = []string{"3.212.79.116/32", "34.193.91.42/32", "198.51.100.10/32"}, "live policy changed since the plan (+[] -[3.92.113.229/32])"
			s.Calls.Reset()
		}
		dry := s.Run(t, reconcile.Options{DryRun: true})
		if dry.Status != plan.Changes {
			t.Fatalf("plan: %s", dry.Status)
		}
		saved := plan.Save(dry.Hash, dry.Targets)
		// Something moves between plan and apply.
		k.SetOwnedTo(t, s, moved...)
		r := s.Run(t, reconcile.Options{Expect: &saved})
		if r.Status != plan.Refused || r.Err == nil || !strings.Contains(r.Err.Error(), want) {
			t.Fatalf("moved apply: %s %v", r.Status, r.Err)
		}
		if k.Writes(s) != 0 {
			t.Fatal("applied a stale plan")
		}
		// A fresh plan applies.
		dry = s.Run(t, reconcile.Options{DryRun: true})
		saved = plan.Save(dry.Hash, dry.Targets)
		if r := s.Run(t, reconcile.Options{Expect: &saved}); r.Err != nil || r.Targets[0].Status != plan.Applied {
			t.Fatalf("fresh plan: %+v %v", r.Targets, r.Err)
		}
	})
}

func TestAtlasFailureWritesNothingAndPagesOnce(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], "")
	if r := s.Run(t, reconcile.Options{}); r.Err != nil {
		t.Fatal(r.Err)
	}
	s.Alerts(t)
	s.Sim.RemoveProject(reconciletest.Project)
	s.Calls.Reset()
	for i := range 2 {
		r := s.Run(t, reconcile.Options{})
		if r.Status != plan.Error || r.Err == nil || !strings.Contains(r.Err.Error(), "GROUP_NOT_FOUND") {
			t.Fatalf("run %d: %s %v", i, r.Status, r.Err)
		}
	}
	if reconciletest.Kinds[0].Writes(s) != 0 || s.Calls.Get(reconciletest.Kinds[0].ReadOp) != 0 {
		t.Fatal("a failed fetch reached the targets")
	}
	if got := reconciletest.Events(s.Alerts(t)); got != "failed" {
		t.Fatalf("alerts %q, want one failed", got)
	}
	var conflict *snapshot.ConflictError
	if errors.As(s.Run(t, reconcile.Options{DryRun: true}).Err, &conflict) {
		t.Fatal("dry run wrote")
	}
}
