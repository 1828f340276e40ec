package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// finish records what must be recorded, then alerts. next is the snapshot to
// store when the run got as far as applying; otherwise only the alert memory
// of the stored snapshot may change.
func (d Deps) finish(ctx context.Context, o Options, r Report, prev *snapshot.Snapshot, version snapshot.Version, next *snapshot.Snapshot, applied bool) Report {
	var prevAlerts map[string]string
	if prev != nil {
		prevAlerts = prev.Alerts
	}
	var outcomes []notify.Outcome
	for _, t := range r.Targets {
		outcomes = append(outcomes, notify.Outcome{Target: t.Target, Status: t.Status, Add: t.Add, Remove: t.Remove, Kept: t.Kept, Reason: t.Reason, Drift: t.Drift, AccessList: limits[t.Type].Entries, Unrecorded: t.Unrecorded, InvalidBefore: t.InvalidBefore, InvalidAfter: t.InvalidAfter})
	}
	var runErr error
	if r.Status == plan.Error && r.Targets == nil {
		runErr = r.Err
	}
	alerts, state := notify.Decide(prevAlerts, outcomes, runErr)
	r.Alerts = alerts

	// Alerts wait in the snapshot's outbox until published: recorded with
	// the run, sent, then cleared. A run that stops in between leaves them
	// for the next one, so a change is announced once and never lost.
	var outbox []snapshot.PendingAlert
	if prev != nil {
		outbox = append(outbox, prev.Outbox...)
	}
	for _, a := range alerts {
		outbox = append(outbox, snapshot.PendingAlert{Event: string(a.Event), Key: a.Key, Subject: a.Subject, Body: a.Body})
	}
	toStore := next
	if !applied && prev != nil && (!sameState(prev.Alerts, state) || len(outbox) != len(prev.Outbox)) {
		// Refused or failed: keep Atlas's record as it was; remember only
		// what on-call was told, so the next run does not page again.
		kept := *prev
		toStore = &kept
	}
	stored := false
	if toStore != nil {
		toStore.Alerts, toStore.Outbox = state, outbox
		toStore.Seen = seen(prev, toStore, o.Trigger, d.Now().UTC().Truncate(time.Second))
		if prev == nil || changed(prev, toStore) {
			d.checkpoint("before-record")
			sctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
			v, err := d.Store.Save(sctx, toStore, version)
			cancel()
			if err != nil {
				if r.Err == nil {
					r.Err = fmt.Errorf("record snapshot: %w", err)
				}
				var conflict *snapshot.ConflictError
				if errors.As(err, &conflict) {
					return r // the run starts again; it will decide the alerts itself
				}
				r.Status = plan.Error
			} else {
				stored, version = true, v
				d.checkpoint("recorded")
				d.Log.Info("snapshot recorded", "url", d.Store.URL(), "hash", toStore.Hash)
			}
		} else {
			stored = true // nothing new; what is stored already says it
		}
	}
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
				r.Err = err
			}
		}
	}
	if stored && len(outbox) > 0 && len(unsent) < len(outbox) {
		cleared := *toStore
		cleared.Outbox = unsent
		sctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
		_, err := d.Store.Save(sctx, &cleared, version)
		cancel()
		if err != nil {
			// Left in the outbox, they are sent again next run: at least once.
			d.Log.Warn("could not clear the alert outbox", "error", err.Error())
		}
	}
	if r.Status != plan.Refused && r.Status != plan.Error {
		for _, t := range r.Targets {
			if t.Status == plan.Error || t.Status == plan.RolledBack || t.Status == plan.Blocked {
				r.Status = plan.Error
			}
		}
	}
	return r
}

func sameState(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// seen returns next's Seen with this run's trigger stamped when the
// snapshot is written anyway, or when the stamp is older than the heartbeat.
func seen(prev, next *snapshot.Snapshot, trigger string, now time.Time) map[string]time.Time {
	if trigger == "" {
		return next.Seen
	}
	last, ok := next.Seen[trigger]
	if prev != nil && !changed(prev, next) && ok && now.Sub(last) < snapshot.SeenHeartbeat {
		return next.Seen
	}
	out := map[string]time.Time{trigger: now}
	for k, v := range next.Seen {
		if k != trigger {
			out[k] = v
		}
	}
	return out
}
