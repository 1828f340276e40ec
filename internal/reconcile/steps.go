package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/bookkeeping"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/desired"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// The steps of runOnce that read, plan and claim.

// load reads the stored snapshot; none stored yet is no error.
func (d Deps) load(ctx context.Context, o Options, holder string) (stored, error) {
	lctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	snap, version, err := d.Store.Load(lctx)
	if err != nil && !errors.Is(err, snapshot.ErrNotFound) {
		return stored{holder: holder}, fmt.Errorf("load snapshot: %w", err)
	}
	return stored{snap: snap, version: version, holder: holder}, nil
}

// fetch asks Atlas; the report it starts says whether the answer changed
// since the stored snapshot, and how long asking took.
func (d Deps) fetch(ctx context.Context, cfg *config.Config, prev *snapshot.Snapshot, now time.Time) (*snapshot.Snapshot, Report, error) {
	start := time.Now() // a measurement, not a decision: the wall clock
	fetched, err := Fetch(ctx, d.Atlas, cfg.Atlas.Projects, now)
	r := Report{FetchDuration: time.Since(start)}
	if err != nil {
		return nil, r, err
	}
	r.Hash, r.Changed = fetched.Hash, prev == nil || prev.Hash != fetched.Hash
	return fetched, r, nil
}

// reading is what a pass read of one target: the target as the config
// and as the plan see it, its kind, its fence or why it could not be read,
// and the parts its NAT gateway sources gave.
type reading struct {
	cfg     config.Target
	plan    plan.Target
	kind    target.Kind
	kindErr error
	fence   target.Fence
	err     error
	nat     []admission.Part
}

// inputs reads every target and pairs what it holds with what it should.
func (d Deps) inputs(ctx context.Context, cfg *config.Config, fetched, prev *snapshot.Snapshot, o Options) []plan.Input {
	rs := readings(cfg, prev)
	d.readAll(ctx, rs, o.CallTimeout)
	d.natSources(ctx, rs, o.CallTimeout)
	inputs := make([]plan.Input, len(rs))
	for i, r := range rs {
		inputs[i] = r.input(fetched, prev, o.unjudged)
	}
	return inputs
}

// input is what the plan needs of a target.
func (r *reading) input(fetched, prev *snapshot.Snapshot, unjudged bool) plan.Input {
	t := r.cfg
	parts := append(desired.Parts(fetched, t.Sources), r.nat...)
	judged := parts
	if unjudged {
		judged = []admission.Part{}
	}
	err := r.err
	if err == nil {
		err = r.kindErr
	}
	return plan.Input{
		Target:     r.plan,
		Source:     desired.Union(parts),
		Parts:      judged,
		Static:     ipset.MustParse(t.Static...), // validated with the config
		HasSources: len(t.Sources) > 0,
		Record:     bookkeeping.RecordOf(prev, t),
		Kind:       r.kind,
		Live:       r.fence,
		ReadErr:    err,
		Blocked:    blockedReason(prev, t.Name),
		Restore:    pendingRestore(prev, t.Name),
		Claimed:    bookkeeping.Unrecorded(prev, t),
	}
}

// readings are the config's targets, as the plan and the adapters see
// them: with what the snapshot says ipsync wrote, for the kinds whose
// fences do not say it themselves.
func readings(cfg *config.Config, prev *snapshot.Snapshot) []*reading {
	out := make([]*reading, len(cfg.Targets))
	for i, t := range cfg.Targets {
		r := &reading{cfg: t, plan: plan.Target{Name: t.Name, Type: t.Type, Resource: t.Resource, Sid: t.Sid, RoleArn: t.RoleArn, Options: t.Options()}}
		r.kind, r.kindErr = cfg.KindOf(t)
		if r.kindErr == nil && r.kind.Rules().RecordedOwnership {
			r.plan.Written = bookkeeping.Written(prev, t)
		}
		out[i] = r
	}
	return out
}

func guardsOf(cfg *config.Config) plan.Guards {
	return plan.Guards{
		MinAddresses:     cfg.Guards.MinAddresses,
		MaxRemovePercent: cfg.Guards.MaxRemovePercent,
		RemovalGrace:     time.Duration(cfg.Guards.RemovalGrace),
		Widest:           cfg.Guards.WidestPrefix,
	}
}

// claim takes the lease on the snapshot before any fence is touched: of two
// racing runs only one can win this conditional write.
func (d Deps) claim(ctx context.Context, o Options, prev stored, fetched *snapshot.Snapshot, targets []plan.TargetPlan, now time.Time) (stored, error) {
	claimed := *fetched
	if prev.snap != nil {
		claimed = *prev.snap
	}
	claimed.Lease = &snapshot.Lease{Holder: prev.holder, Until: now.Add(o.LeaseTTL)}
	claimed.Unrecorded = bookkeeping.Claimed(prev.snap, targets)
	cctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	defer cancel()
	v, err := d.Store.Save(cctx, &claimed, prev.version)
	if err != nil {
		return prev, err
	}
	return stored{snap: &claimed, version: v, holder: prev.holder}, nil
}

// claimFailed ends a run whose claim was not written: nothing was. A lost
// race restarts the run; any other failure fails it (the function's error
// alarm pages: with the snapshot unwritable there is nowhere to remember an
// alert).
func claimFailed(r Report, err error) Report {
	r.Err = fmt.Errorf("claim snapshot: %w", err)
	var conflict *snapshot.ConflictError
	if !errors.As(err, &conflict) {
		r.Status = plan.Error
	}
	return r
}
