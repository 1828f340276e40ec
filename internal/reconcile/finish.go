package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/bookkeeping"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// stored is the snapshot as this run last read or wrote it, and the run's
// name in a lease.
type stored struct {
	snap    *snapshot.Snapshot
	version snapshot.Version
	holder  string
}

// finish records what must be recorded, then alerts. next is the snapshot to
// store when the run got as far as applying; otherwise only the alert memory
// of the stored snapshot may change.
//
// Alerts wait in the snapshot's outbox until published, and a run publishes
// only an outbox it has written itself, with its lease on the snapshot:
// recorded with the run, sent, then cleared with the lease. A run that finds
// another run's live lease leaves the outbox to it; a run that stops in
// between leaves it to the first run after the lease ends. So every alert is
// sent once, except where docs/design.md ("Decisions") says it can be sent
// twice.
func (d Deps) finish(ctx context.Context, o Options, r Report, prev stored, next *snapshot.Snapshot, applied bool) Report {
	now := d.Now().UTC().Truncate(time.Second)
	if busy := leased(prev.snap, prev.holder, now); busy != nil && !applied {
		// Another run is applying or publishing: it records and alerts. What
		// this run found is decided again by the next one.
		d.Log.Warn("another run holds the snapshot: this run records and alerts nothing", "holder", busy.Holder, "until", busy.Until)
		return r
	}
	alerts, state := notify.Decide(bookkeeping.AlertState(prev.snap), outcomesOf(r), runErrOf(r))
	r.Alerts = alerts
	toStore, outbox := bookkeeping.ToStore(prev.snap, next, alerts, state,
		bookkeeping.Ending{Applied: applied, Holder: prev.holder, Trigger: string(o.Trigger), LeaseTTL: o.LeaseTTL}, now)
	if toStore == nil {
		// No snapshot yet and none to write: there is nowhere to remember
		// the alerts, so they are sent now, and again by the next such run.
		d.publish(ctx, o, &r, outbox)
		return r
	}
	version, ok := d.record(ctx, o, &r, prev, toStore)
	if !ok || len(outbox) == 0 {
		return r // nothing recorded: nothing published either
	}
	cleared := *toStore
	cleared.Outbox, cleared.Lease = d.publish(ctx, o, &r, outbox), nil
	sctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	_, err := d.Store.Save(sctx, &cleared, version)
	cancel()
	if err != nil {
		// Left in the outbox, they are sent again after the lease: at least once.
		d.Log.Warn("could not clear the alert outbox", "error", err.Error())
	}
	return r
}

// record writes toStore when it says something the stored snapshot does
// not, and reports the version stored and whether toStore is what is stored.
func (d Deps) record(ctx context.Context, o Options, r *Report, prev stored, toStore *snapshot.Snapshot) (snapshot.Version, bool) {
	if prev.snap != nil && !bookkeeping.Changed(prev.snap, toStore) {
		return prev.version, true // nothing new; what is stored already says it
	}
	d.checkpoint("before-record")
	sctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	v, err := d.Store.Save(sctx, toStore, prev.version)
	cancel()
	if err != nil {
		if r.Err == nil {
			r.Err = fmt.Errorf("record snapshot: %w", err)
		}
		var conflict *snapshot.ConflictError
		if !errors.As(err, &conflict) {
			r.Status = plan.Error // a conflict starts the run again instead
		}
		return "", false
	}
	d.checkpoint("recorded")
	d.Log.Info("snapshot recorded", "url", d.Store.URL(), "hash", toStore.Hash)
	return v, true
}

// publish sends the outbox and returns what could not be sent.
func (d Deps) publish(ctx context.Context, o Options, r *Report, outbox []snapshot.PendingAlert) []snapshot.PendingAlert {
	d.checkpoint("before-notify")
	var unsent []snapshot.PendingAlert
	for _, a := range outbox {
		d.Log.Info("alert", "event", a.Event, "key", a.Key, "subject", a.Subject)
		if d.Notify == nil {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
		err := d.Notify.Publish(pctx, notify.Alert{Event: notify.Event(a.Event), Key: a.Key, Subject: a.Subject, Body: a.Body})
		cancel()
		if err != nil {
			d.Log.Error("alert not sent; it stays in the outbox for the next run", "event", a.Event, "key", a.Key, "error", err.Error())
			unsent = append(unsent, a)
			if r.Err == nil {
				r.Err = fmt.Errorf("send alert %s %s: %w", a.Event, a.Key, err)
			}
		}
	}
	return unsent
}

// settle makes the run's status agree with its targets and its error
// (docs/design.md "CLI": the exit code follows the status): a failed,
// rolled-back or blocked target, or a failure after planning (an alert not
// sent, the snapshot not recorded), makes the run an error. A refused run
// stays refused: nothing was written. A run that wrote its changes and
// ended with nothing amiss is applied.
func settle(r Report) Report {
	if r.Status == plan.Refused {
		return r
	}
	failed, applied := r.Err != nil, false
	for _, t := range r.Targets {
		failed = failed || t.Status.NotInSync()
		applied = applied || t.Status == plan.Applied
	}
	switch {
	case failed:
		r.Status = plan.Error
	case applied:
		r.Status = plan.Applied
	}
	return r
}

func outcomesOf(r Report) []notify.Outcome {
	var out []notify.Outcome
	for _, t := range r.Targets {
		out = append(out, notify.Outcome{Target: t.Target, Status: t.Status, Add: t.Add, Remove: t.Remove, Kept: t.Kept, Reason: t.Reason, Drift: t.Drift, Words: wordsOf(t.Kind), Unrecorded: t.Unrecorded, InvalidBefore: t.InvalidBefore, InvalidAfter: t.InvalidAfter})
	}
	return out
}

// wordsOf is how alerts name what ipsync owns in a target of kind k; none
// (no kind) leaves notify to speak of a policy's statement.
func wordsOf(k target.Kind) target.Words {
	if k == nil {
		return target.Words{}
	}
	return k.Words()
}

// runErrOf is the failure of the run as a whole, before any target was planned.
func runErrOf(r Report) error {
	if r.Status == plan.Error && r.Targets == nil {
		return r.Err
	}
	return nil
}
