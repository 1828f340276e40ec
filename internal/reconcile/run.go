package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sync"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// Policies reads and writes one kind of policy document (an adapter).
type Policies interface {
	Read(ctx context.Context, resource string) ([]byte, error)
	Write(ctx context.Context, resource string, doc []byte) error
}

// Publisher sends alerts.
type Publisher interface {
	Publish(ctx context.Context, a notify.Alert) error
}

// Deps are the adapters a run uses.
type Deps struct {
	Atlas    AtlasSource
	Store    snapshot.Store
	Policies map[string]Policies // by AdapterKey(type, roleArn)
	Notify   Publisher           // nil: alerts are only logged
	// Encryption verifies changes to keys that guard encryption at rest
	// (targets with encryptionAtRestProjects).
	Encryption EncryptionStatus
	// NAT reads the nat-gateways sources of atlas-access-list targets.
	NAT NATGateways
	Now func() time.Time
	Log *slog.Logger
	// Checkpoint, when set, is called at each step boundary ("fetched",
	// "wrote:<target>", "before-record", "recorded", "before-notify"), so
	// tests can stop a run there as a crash would.
	Checkpoint func(step string)
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
	Expect *Saved
	// VerifyAttempts and VerifyWait bound the re-reads after a write (both
	// services are eventually consistent). Defaults: 5 and 200ms.
	VerifyAttempts int
	VerifyWait     time.Duration
	// LeaseTTL bounds how long a run's claim on the snapshot holds while it
	// applies (default 2m); BusyWait is how long a run waits for another
	// run's claim to end before giving up (default 1m).
	LeaseTTL time.Duration
	BusyWait time.Duration
	// Trigger names what started the run ("schedule", "webhook",
	// "eventbridge", "cli"); the snapshot remembers when each last ran.
	Trigger string
	// CallTimeout bounds each AWS call the loop makes — policy reads and
	// writes, snapshot reads and writes, alerts (default 30s): a hung
	// service fails its step instead of holding the run until Lambda's own
	// timeout.
	CallTimeout time.Duration
}

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

// Limits per target type.
var limits = map[string]policy.Limit{
	config.TypeKMSKeyPolicy:      policy.KMSKeyPolicy,
	config.TypeVPCEndpointPolicy: policy.VPCEndpointPolicy,
	config.TypeIAMRolePolicy:     policy.IAMRolePolicies,
	config.TypeAtlasAccessList:   policy.AtlasAccessList,
}

// NATGateways finds the public addresses of NAT gateways by tag, in the
// account of roleArn (empty: the run's own).
type NATGateways interface {
	PublicIPs(ctx context.Context, roleArn, tagKey, tagValue string) (ipset.Set, error)
}

// SharedLimit is an adapter whose documents share their size limit with
// others (all inline policies of an IAM role): it says how much of the
// limit the others use.
type SharedLimit interface {
	OthersSize(ctx context.Context, resource string) (int, error)
}

// LimitOf is the size limit of a target type's policy.
func LimitOf(typ string) policy.Limit { return limits[typ] }

// LimitFor is the room a target's document really has: its type's limit,
// less what the documents sharing that limit use (an IAM role's other
// inline policies), asked of the adapter when it is a SharedLimit.
func LimitFor(ctx context.Context, a Policies, typ, resource string) (policy.Limit, error) {
	l := limits[typ]
	shared, ok := a.(SharedLimit)
	if !ok {
		return l, nil
	}
	others, err := shared.OthersSize(ctx, resource)
	if err != nil {
		return l, err
	}
	l.Name = fmt.Sprintf("%s (%d; the role's other inline policies use %d)", l.Name, l.Max, others)
	l.Max -= others
	return l, nil
}

// Run is the one loop: fetch → snapshot → plan → guards → apply → record →
// notify. A lost race on the snapshot starts it once more from fresh state.
func Run(ctx context.Context, cfg *config.Config, d Deps, o Options) Report {
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
	holder := newHolder()
	for conflicts := 0; ; {
		r := runOnce(ctx, cfg, d, o, holder)
		var conflict *snapshot.ConflictError
		var busy *BusyError
		switch {
		case errors.As(r.Err, &conflict) && conflicts < maxConflicts:
			conflicts++
			d.Log.Warn("snapshot changed under this run; starting again from fresh state", "error", r.Err.Error())
			// A short random pause, so that racers that lost together do
			// not collide again at once.
			select {
			case <-time.After(time.Duration(mathrand.Int64N(int64(50*time.Millisecond)) * int64(conflicts))):
			case <-ctx.Done():
				return r
			}
		case errors.As(r.Err, &busy):
			d.Log.Info("another run is applying; waiting for it", "holder", busy.Holder, "until", busy.Until)
			if err := d.waitForLease(ctx, o.BusyWait); err != nil {
				r.Err = fmt.Errorf("%w; %v", r.Err, err)
				return r
			}
		default:
			return r
		}
	}
}

// maxConflicts bounds how often a run starts again after losing a race on
// the snapshot; each restart reads fresh state, so it is cheap and safe.
const maxConflicts = 5

// BusyError says another run holds the snapshot's lease while it applies.
type BusyError struct {
	Holder string
	Until  time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another run (%s) is applying changes until %s at the latest", e.Holder, e.Until.Format(time.RFC3339))
}

func newHolder() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// waitForLease polls the snapshot until no live lease is on it.
func (d Deps) waitForLease(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		s, _, err := d.Store.Load(ctx)
		if err != nil || s.Lease == nil || !d.Now().Before(s.Lease.Until) {
			return nil
		}
	}
	return fmt.Errorf("the other run's lease did not end within %s", limit)
}

// leased reports whether another run holds a live lease on s.
func leased(s *snapshot.Snapshot, holder string, now time.Time) *BusyError {
	if s == nil || s.Lease == nil || s.Lease.Holder == holder || !now.Before(s.Lease.Until) {
		return nil
	}
	return &BusyError{Holder: s.Lease.Holder, Until: s.Lease.Until}
}

func runOnce(ctx context.Context, cfg *config.Config, d Deps, o Options, holder string) Report {
	now := d.Now().UTC().Truncate(time.Second)
	lctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	prev, version, err := d.Store.Load(lctx)
	cancel()
	if err != nil && !errors.Is(err, snapshot.ErrNotFound) {
		return d.fail(ctx, o, nil, "", fmt.Errorf("load snapshot: %w", err))
	}
	fetchStart := time.Now()
	fetched, err := Fetch(ctx, d.Atlas, cfg.Atlas.Projects, now)
	fetchDuration := time.Since(fetchStart)
	if err != nil {
		r := d.fail(ctx, o, prev, version, err)
		r.FetchDuration = fetchDuration
		return r
	}
	r := Report{Hash: fetched.Hash, Changed: prev == nil || prev.Hash != fetched.Hash, FetchDuration: fetchDuration}
	d.checkpoint("fetched")

	docs, readErrs := d.readAll(ctx, cfg.Targets, o.CallTimeout)
	nat := d.natSources(ctx, cfg.Targets, readErrs, o.CallTimeout)
	inputs := make([]plan.Input, len(cfg.Targets))
	for i, t := range cfg.Targets {
		inputs[i] = plan.Input{
			Target:     plan.Target{Name: t.Name, Type: t.Type, Resource: t.Resource, Sid: t.Sid, RoleArn: t.RoleArn},
			Source:     ipset.Union(SourceSet(fetched, t.Sources), nat[i]),
			Static:     ipset.MustParse(t.Static...), // validated with the config
			HasSources: len(t.Sources) > 0,
			Record:     recordOf(prev, t),
			Live:       docs[i],
			ReadErr:    readErrs[i],
			Limit:      limits[t.Type],
			Blocked:    blockedReason(prev, t.Name),
		}
	}
	guards := plan.Guards{
		MinAddresses:     cfg.Guards.MinAddresses,
		MaxRemovePercent: cfg.Guards.MaxRemovePercent,
		RemovalGrace:     time.Duration(cfg.Guards.RemovalGrace),
	}
	p := plan.Build(inputs, guards, now)
	d.sharedLimits(ctx, &p, inputs, guards, now, o.CallTimeout)
	r.Status, r.Targets = p.Status, p.Targets
	if o.Expect != nil {
		if moved := o.Expect.Moved(r); moved != "" {
			r.Status = plan.Refused
			r.Err = fmt.Errorf("the saved plan no longer matches: %s; nothing was written, run plan again", moved)
			return r
		}
	}
	if o.DryRun {
		return r
	}
	if p.Status == plan.Refused {
		// The source is suspect: no target and no address record is written.
		d.Log.Warn("refused by a guard: nothing written")
		return d.finish(ctx, o, r, prev, version, nil, false)
	}
	// A run that will write (or watch a change it may roll back) claims the
	// snapshot first.
	writes := anyChanges(r.Targets) || watchesUnrecorded(cfg, r.Targets)
	if busy := leased(prev, holder, now); busy != nil {
		if writes {
			r.Err = busy // wait for it, then start again
			return r
		}
		// Nothing to write here; the lease holder records the snapshot.
		return r
	}
	if writes {
		// Claim the snapshot before touching any policy: of two racing runs
		// only one can win this conditional write.
		claim := fetched
		if prev != nil {
			c := *prev
			claim = &c
		}
		claimed := *claim
		claimed.Lease = &snapshot.Lease{Holder: holder, Until: now.Add(o.LeaseTTL)}
		cctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
		v, err := d.Store.Save(cctx, &claimed, version)
		cancel()
		if err != nil {
			// Nothing was written. A lost race restarts the run; any other
			// failure fails it (the function's error alarm pages: with the
			// snapshot unwritable there is nowhere to remember an alert).
			r.Err = fmt.Errorf("claim snapshot: %w", err)
			var conflict *snapshot.ConflictError
			if !errors.As(err, &conflict) {
				r.Status = plan.Error
			}
			return r
		}
		prev, version = &claimed, v
	}
	if d.Encryption == nil && guardsEncryption(cfg, r.Targets) {
		r.Status, r.Err = plan.Error, errors.New("a changed target has encryptionAtRestProjects, but no Atlas client was given to verify the change with")
		return r
	}
	d.checkBefore(ctx, cfg, r.Targets, o)
	d.applyAll(ctx, r.Targets, o)
	stored := &blockLog{snap: prev, version: version}
	blocks := d.watchAfter(ctx, cfg, r.Targets, docs, o, now, stored)
	prev, version = stored.snap, stored.version
	next := recordAll(prev, fetched, r.Targets, blocks, now)
	return d.finish(ctx, o, r, prev, version, next, true)
}

// fail ends a run that could not plan: alert (on transition) and keep the snapshot.
func (d Deps) fail(ctx context.Context, o Options, prev *snapshot.Snapshot, version snapshot.Version, err error) Report {
	r := Report{Status: plan.Error, Err: err}
	if o.DryRun {
		return r
	}
	d.Log.Error("run failed before planning", "error", err.Error())
	return d.finish(ctx, o, r, prev, version, nil, false)
}

// readAll reads every target's policy in parallel.
func (d Deps) readAll(ctx context.Context, targets []config.Target, timeout time.Duration) ([][]byte, []error) {
	docs := make([][]byte, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := d.adapter(t.Type, t.RoleArn)
			if err != nil {
				errs[i] = err
				return
			}
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			docs[i], err = a.Read(cctx, t.Resource)
			errs[i] = throughRole(t.RoleArn, err)
		}()
	}
	wg.Wait()
	return docs, errs
}

// throughRole names, in a target's error, the role it is reached through:
// the SDK's error says only "AssumeRole ... AccessDenied" or "get
// credentials: request canceled", and a run may use several roles.
func throughRole(roleArn string, err error) error {
	if err == nil || roleArn == "" {
		return err
	}
	return fmt.Errorf("%w (through role %s)", err, roleArn)
}

// natSources reads each target's nat-gateways sources, once per role and
// tag in the run; a failure is that target's error.
func (d Deps) natSources(ctx context.Context, targets []config.Target, errs []error, timeout time.Duration) []ipset.Set {
	out := make([]ipset.Set, len(targets))
	seen := map[string]ipset.Set{}
	for i, t := range targets {
		for _, s := range t.Sources {
			if s.Kind != config.SourceNATGateways || errs[i] != nil {
				continue
			}
			if d.NAT == nil {
				errs[i] = errors.New("no NAT gateway reader for a nat-gateways source")
				continue
			}
			key := t.RoleArn + " " + s.String()
			set, ok := seen[key]
			if !ok {
				cctx, cancel := context.WithTimeout(ctx, timeout)
				var err error
				set, err = d.NAT.PublicIPs(cctx, t.RoleArn, s.TagKey, s.TagValue)
				cancel()
				if err != nil {
					errs[i] = throughRole(t.RoleArn, err)
					continue
				}
				seen[key] = set
			}
			out[i] = ipset.Union(out[i], set)
		}
	}
	return out
}

// sharedLimits plans again, against what is really left, each target
// about to change whose limit it shares with other documents. Only a change
// needs it: a run with nothing to change makes no extra call.
func (d Deps) sharedLimits(ctx context.Context, p *plan.Plan, inputs []plan.Input, g plan.Guards, now time.Time, timeout time.Duration) {
	for i, tp := range p.Targets {
		if tp.Status != plan.Changes {
			continue
		}
		a, err := d.adapter(tp.Type, tp.RoleArn)
		if _, shared := a.(SharedLimit); err != nil || !shared {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		limit, err := LimitFor(cctx, a, tp.Type, tp.Resource)
		cancel()
		inputs[i].Limit, inputs[i].ReadErr = limit, throughRole(tp.RoleArn, err)
		p.Replan(i, inputs[i], g, now)
	}
}

// applyAll writes and verifies every changed target, in parallel. A failure
// on one does not stop the others.
func (d Deps) applyAll(ctx context.Context, targets []plan.TargetPlan, o Options) {
	var wg sync.WaitGroup
	for i := range targets {
		tp := &targets[i]
		if tp.Status != plan.Changes {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.writeAndVerify(ctx, "wrote:"+tp.Name, tp.Target, tp.Document, tp.Desired, o); err != nil {
				d.Log.Error("target write failed", "target", tp.Name, "error", err.Error())
				tp.Status, tp.Reason = plan.Error, err.Error()
				return
			}
			d.Log.Info("target applied", "target", tp.Name, "add", tp.Add.Strings(), "remove", tp.Remove.Strings(), "drift", tp.Drift)
			tp.Status = plan.Applied
		}()
	}
	wg.Wait()
}

// writeAndVerify writes doc, then reads it back until the owned statement
// holds want; a failure names the role the target is reached through (for
// the apply and for a rollback alike).
// step names the checkpoint after the write.
func (d Deps) writeAndVerify(ctx context.Context, step string, t plan.Target, doc []byte, want ipset.Set, o Options) (err error) {
	defer func() { err = throughRole(t.RoleArn, err) }()
	a, err := d.adapter(t.Type, t.RoleArn)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	err = a.Write(wctx, t.Resource, doc)
	cancel()
	if err != nil {
		return err
	}
	d.checkpoint(step)
	var last string
	for attempt := 1; attempt <= o.VerifyAttempts; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
		doc, err := a.Read(rctx, t.Resource)
		cancel()
		if err == nil {
			c, err := policy.Read(doc, t.Sid)
			if err == nil {
				got, err := ipset.Parse(c.Values)
				if err == nil && got.Equal(want) {
					return nil
				}
				last = fmt.Sprintf("it holds %v", got)
			} else {
				last = err.Error()
			}
		} else {
			last = err.Error()
		}
		if attempt < o.VerifyAttempts {
			select {
			case <-time.After(o.VerifyWait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return fmt.Errorf("written, but reading it back %d times did not show the desired set (%s)", o.VerifyAttempts, last)
}

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

// AdapterKey names the adapter of a target type reached through a role
// (another account); with no role, it is the type alone.
func AdapterKey(typ, roleArn string) string {
	if roleArn == "" {
		return typ
	}
	return typ + " as " + roleArn
}

func (d Deps) adapter(typ, roleArn string) (Policies, error) {
	a, ok := d.Policies[AdapterKey(typ, roleArn)]
	if !ok {
		return nil, fmt.Errorf("no adapter for %s", AdapterKey(typ, roleArn))
	}
	return a, nil
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
