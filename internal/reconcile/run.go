package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Publisher sends alerts.
type Publisher interface {
	Publish(ctx context.Context, a notify.Alert) error
}

// Deps are the adapters a run uses.
type Deps struct {
	Atlas    AtlasSource
	Store    snapshot.Store
	Adapters target.Adapters
	Notify   Publisher // nil: alerts are only logged
	// Encryption verifies changes to keys that guard encryption at rest
	// (targets with encryptionAtRestProjects).
	Encryption EncryptionStatus
	// NAT reads the nat-gateways sources of atlas-access-list targets.
	NAT NATGateways
	Now func() time.Time
	// Sleep, when set, is how the run pauses (between verify reads, Atlas
	// questions, lease polls and restarts); nil: a real timer. Every wait
	// is counted in pauses, never by reading a wall clock, so a test's
	// clock and its Sleep stay the only time the loop sees.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Checkpoint, when set, is called at each step boundary ("fetched",
	// "wrote:<target>", "before-record", "recorded", "before-notify"), so
	// tests can stop a run there as a crash would.
	Checkpoint func(step string)
	// Each, when set, runs do(0) … do(n-1) — a run's per-target reads, and
	// its writes — and returns when all have; nil: all at once. The
	// simulation runs them one at a time in an order drawn from its seed,
	// so that a seed replays a history exactly.
	Each func(n int, do func(i int))
}

func (d Deps) checkpoint(step string) {
	if d.Checkpoint != nil {
		d.Checkpoint(step)
	}
}

// Options shape one run.
type Options struct {
	// DryRun plans and stops: no policy, snapshot or alert is written. It is
	// the orchestrator's property; adapters know nothing of it.
	DryRun bool
	// Expect, when set, is a saved plan the live state must still match.
	Expect *plan.Saved
	// VerifyAttempts and VerifyWait bound the re-reads after a write (both
	// services are eventually consistent). Defaults: 5 and 200ms.
	VerifyAttempts int
	VerifyWait     time.Duration
	// LeaseTTL bounds how long a run's claim on the snapshot holds while it
	// applies (default 2m); BusyWait is how long a run waits for another
	// run's claim to end before giving up (default 1m).
	LeaseTTL time.Duration
	BusyWait time.Duration
	// Trigger names what started the run; the snapshot remembers when each
	// last ran.
	Trigger Trigger
	// CallTimeout bounds each AWS call the loop makes — policy reads and
	// writes, snapshot reads and writes, alerts (default 30s): a hung
	// service fails its step instead of holding the run until Lambda's own
	// timeout.
	CallTimeout time.Duration
	// unjudged plants a bug for the simulation (export_test.go): the plan
	// is handed no part of the sources to judge, as if the loop forgot
	// admission. Nothing else sets it.
	unjudged bool
}

// Trigger names what started a run, as the snapshot's Seen records it.
type Trigger = snapshot.Trigger

// Triggers (snapshot's, named here for the loop's callers).
const (
	TriggerSchedule    = snapshot.TriggerSchedule
	TriggerWebhook     = snapshot.TriggerWebhook
	TriggerEventBridge = snapshot.TriggerEventBridge
	TriggerCLI         = snapshot.TriggerCLI
)

// Report is what a run found and did.
type Report struct {
	Status  plan.Status // in-sync, changes, refused or error
	Hash    string      // of Atlas's answer, when fetched
	Changed bool        // Atlas's answer differs from the stored snapshot
	Targets []plan.TargetPlan
	Alerts  []notify.Alert
	Err     error // a failure of the run as a whole
	// FetchDuration is how long asking Atlas took.
	FetchDuration time.Duration
}

// NATGateways finds the public addresses of NAT gateways by tag, in the
// account of roleArn (empty: the run's own).
type NATGateways interface {
	PublicIPs(ctx context.Context, roleArn, tagKey, tagValue string) (ipset.Set, error)
}

// Run is the one loop: fetch → snapshot → plan → guards → apply → record →
// notify. A lost race on the snapshot starts it once more from fresh state.
func Run(ctx context.Context, cfg *config.Config, d Deps, o Options) Report {
	d, o = withDefaults(cfg, d, o)
	holder := newHolder()
	var again retries
	for {
		r := runOnce(ctx, cfg, d, o, holder)
		if !d.startAgain(ctx, o, &r, &again) {
			return settle(r) // the one place a run's status is settled
		}
	}
}

// retries counts a run's fresh starts: after losing a race on the
// snapshot, and after waiting for another run's lease.
type retries struct{ conflicts, waits int }

// startAgain says whether the run starts again from fresh state: after a
// lost race on the snapshot (a short random pause first, so that racers
// that lost together do not collide again at once), or once another run's
// lease has ended. Giving up, it says why in r.Err.
func (d Deps) startAgain(ctx context.Context, o Options, r *Report, n *retries) bool {
	var conflict *snapshot.ConflictError
	var busy *BusyError
	switch {
	case errors.As(r.Err, &conflict) && n.conflicts < maxConflicts:
		n.conflicts++
		d.Log.Warn("snapshot changed under this run; starting again from fresh state", "error", r.Err.Error())
		return d.sleep(ctx, time.Duration(mathrand.Int64N(int64(50*time.Millisecond))*int64(n.conflicts))) == nil
	case errors.As(r.Err, &busy):
		if n.waits++; n.waits > maxBusyWaits {
			r.Err = fmt.Errorf("%w; other runs held the snapshot %d times in a row: giving up, the next run tries again", r.Err, maxBusyWaits)
			return false
		}
		d.Log.Info("another run is applying; waiting for it", "holder", busy.Holder, "until", busy.Until)
		if err := d.waitForLease(ctx, o.BusyWait); err != nil {
			r.Err = fmt.Errorf("%w; %v", r.Err, err)
			return false
		}
		return true
	}
	return false
}

// withDefaults fills what the deps and options leave out.
func withDefaults(cfg *config.Config, d Deps, o Options) (Deps, Options) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if o.VerifyAttempts <= 0 {
		o.VerifyAttempts = 5
	}
	if o.VerifyWait <= 0 {
		o.VerifyWait = 200 * time.Millisecond
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 30 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2 * time.Minute
	}
	if o.BusyWait <= 0 {
		o.BusyWait = time.Minute
	}
	if w := time.Duration(cfg.Verify.Window); w > 0 && cfg.VerifiesEncryption() {
		o.LeaseTTL += w // the claim must outlive the watch after a change
	}
	return d, o
}

// maxBusyWaits bounds how often a run waits for another run's lease: each
// wait is bounded (BusyWait), and a run that keeps finding new leases (a
// storm of triggers) gives up rather than wait without end. A run waits
// once per other run that holds a change it still needs, and Atlas changing
// its answer while runs race makes several in a row: the cap sits well
// above that (TestFiftyConcurrentRuns, run under load).
const maxBusyWaits = 10

// maxConflicts bounds how often a run starts again after losing a race on
// the snapshot; each restart reads fresh state, so it is cheap and safe.
const maxConflicts = 5

// fail ends a run that could not plan: alert (on transition) and keep the snapshot.
func (d Deps) fail(ctx context.Context, o Options, prev stored, err error) Report {
	r := Report{Status: plan.Error, Err: err}
	if o.DryRun {
		return r
	}
	d.Log.Error("run failed before planning", "error", err.Error())
	return d.finish(ctx, o, r, prev, nil, false)
}

func anyChanges(ts []plan.TargetPlan) bool {
	for _, t := range ts {
		if t.Status == plan.Changes {
			return true
		}
	}
	return false
}

// watchesUnrecorded: a change an earlier run wrote but never recorded is on
// a target that guards encryption at rest, so this run will watch it (and
// may roll it back): it must hold the claim like a run that writes.
func watchesUnrecorded(cfg *config.Config, ts []plan.TargetPlan) bool {
	for i, t := range ts {
		if t.Status == plan.InSync && t.Unrecorded && len(cfg.Targets[i].EncryptionAtRestProjects) > 0 {
			return true
		}
	}
	return false
}

// guardsEncryption: a target about to change (or whose unrecorded change
// will be watched) guards encryption at rest.
func guardsEncryption(cfg *config.Config, ts []plan.TargetPlan) bool {
	for i, t := range ts {
		if (t.Status == plan.Changes || t.Unrecorded) && len(cfg.Targets[i].EncryptionAtRestProjects) > 0 {
			return true
		}
	}
	return false
}

func blockedReason(prev *snapshot.Snapshot, name string) string {
	if prev == nil {
		return ""
	}
	b, ok := prev.Blocked[name]
	if !ok {
		return ""
	}
	return fmt.Sprintf("blocked since %s: %s", b.Since.Format(time.RFC3339), b.Reason)
}

func (d Deps) adapter(typ config.TargetType, as string) (target.Adapter, error) {
	return d.Adapters.Get(target.AdapterKey{Type: typ, As: as})
}
