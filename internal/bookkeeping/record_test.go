package bookkeeping

import (
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// ToStore is the pure half of recording: what a run writes, and which
// alerts wait in the outbox under its lease.
func TestToStore(t *testing.T) {
	refused := notify.Alert{Event: notify.Refused, Key: "k", Subject: "ipsync REFUSED k", Body: "b"}
	refusedState := notify.State{Targets: map[string]notify.AlertState{"k": "refused"}}
	prev := answer("192.0.2.1")
	next := answer("192.0.2.2")
	end := Ending{Holder: "me", Trigger: "schedule", LeaseTTL: 2 * time.Minute}
	applied := end
	applied.Applied = true
	for _, c := range []struct {
		name      string
		prev      *snapshot.Snapshot
		next      *snapshot.Snapshot
		alerts    []notify.Alert
		state     notify.State
		e         Ending
		wantHash  string // "" no snapshot to write
		wantLease bool
		outbox    int
	}{
		{"applied, quiet", prev, next, nil, notify.State{}, applied, next.Hash, false, 0},
		{"applied, an alert to send", prev, next, []notify.Alert{refused}, refusedState, applied, next.Hash, true, 1},
		{"refused: Atlas's record kept, what on-call was told remembered", prev, nil, []notify.Alert{refused}, refusedState, end, prev.Hash, true, 1},
		{"failed again: nothing new to remember", withState(prev, refusedState), nil, nil, refusedState, end, "", false, 0},
		{"no snapshot yet and nothing applied: sent unrecorded", nil, nil, []notify.Alert{refused}, refusedState, end, "", false, 1},
	} {
		got, outbox := ToStore(c.prev, c.next, c.alerts, c.state, c.e, t0)
		switch {
		case c.wantHash == "" && got != nil:
			t.Errorf("%s: a snapshot to write (%s)", c.name, got.Hash)
		case c.wantHash != "" && (got == nil || got.Hash != c.wantHash):
			t.Errorf("%s: %v, want hash %s", c.name, got, c.wantHash)
		case got != nil && (got.Lease != nil) != c.wantLease:
			t.Errorf("%s: lease %+v", c.name, got.Lease)
		case len(outbox) != c.outbox:
			t.Errorf("%s: outbox %d, want %d", c.name, len(outbox), c.outbox)
		case got != nil && got.Seen["schedule"] != t0:
			t.Errorf("%s: seen %v", c.name, got.Seen)
		}
	}
	if kept, _ := ToStore(prev, nil, []notify.Alert{refused}, refusedState, end, t0); kept == prev || prev.Alerts != nil {
		t.Error("the stored snapshot was changed in place")
	}
}

func withState(s *snapshot.Snapshot, st notify.State) *snapshot.Snapshot {
	c := *s
	c.Alerts, c.RunAlert = StoredAlerts(st)
	return &c
}
