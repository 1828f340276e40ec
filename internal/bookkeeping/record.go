package bookkeeping

import (
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// Ending is how a run ends, for what it records: whether it applied (and
// so has a next snapshot to record), who it is, and what started it.
type Ending struct {
	Applied bool
	Holder  string
	Trigger string
	// LeaseTTL is how long the lease that guards the outbox holds.
	LeaseTTL time.Duration
}

// ToStore is the snapshot a run records, and the outbox it must publish:
// next (a run that applied) or, for a refused or failed run, the stored
// snapshot with only what on-call was told changed (so the next run does
// not page again); nil when there is none to write (no snapshot yet and
// nothing applied), and the alerts are then sent unrecorded. Alerts wait
// in the outbox, with the run's lease, until published.
func ToStore(prev, next *snapshot.Snapshot, alerts []notify.Alert, state notify.State, e Ending, now time.Time) (*snapshot.Snapshot, []snapshot.PendingAlert) {
	var outbox []snapshot.PendingAlert
	if prev != nil {
		outbox = append(outbox, prev.Outbox...)
	}
	for _, a := range alerts {
		outbox = append(outbox, snapshot.PendingAlert{Event: string(a.Event), Key: a.Key, Subject: a.Subject, Body: a.Body})
	}
	toStore := next
	if !e.Applied && prev != nil && (!AlertState(prev).Equal(state) || len(outbox) > 0) {
		kept := *prev // Atlas's record as it was
		toStore = &kept
	}
	if toStore == nil {
		return nil, outbox
	}
	toStore.Alerts, toStore.RunAlert = StoredAlerts(state)
	toStore.Outbox = outbox
	if len(outbox) > 0 {
		toStore.Lease = &snapshot.Lease{Holder: e.Holder, Until: now.Add(e.LeaseTTL)}
	}
	toStore.Seen = Seen(prev, toStore, e.Trigger, now)
	return toStore, outbox
}
