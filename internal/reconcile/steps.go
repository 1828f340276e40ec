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

// inputs reads every target and pairs what it holds with what it should.
func (d Deps) inputs(ctx context.Context, cfg *config.Config, fetched, prev *snapshot.Snapshot, o Options) []plan.Input {
	targets := planTargets(cfg, prev)
	fences, readErrs := d.readAll(ctx, targets, o.CallTimeout)
	nat := d.natSources(ctx, cfg.Targets, readErrs, o.CallTimeout)
	inputs := make([]plan.Input, len(cfg.Targets))
	for i, t := range cfg.Targets {
		kind, err := cfg.KindOf(t)
		if err != nil && readErrs[i] == nil {
			readErrs[i] = err
		}
		parts := append(desired.Parts(fetched, t.Sources), nat[i]...)
		judged := parts
		if o.unjudged {
			judged = []admission.Part{}
		}
		inputs[i] = plan.Input{
			Target:     targets[i],
			Source:     desired.Union(parts),
			Parts:      judged,
			Static:     ipset.MustParse(t.Static...), // validated with the config
			HasSources: len(t.Sources) > 0,
			Record:     bookkeeping.RecordOf(prev, t),
			Kind:       kind,
			Live:       fences[i],
			ReadErr:    readErrs[i],
			Blocked:    blockedReason(prev, t.Name),
			Restore:    pendingRestore(prev, t.Name),
			Claimed:    bookkeeping.Unrecorded(prev, t),
		}
	}
	return inputs
}

// planTargets are the config's targets as the plan and the adapters see
// them: with what the snapshot says ipsync wrote, for the kinds whose
// fences do not say it themselves.
func planTargets(cfg *config.Config, prev *snapshot.Snapshot) []plan.Target {
	out := make([]plan.Target, len(cfg.Targets))
	for i, t := range cfg.Targets {
		out[i] = plan.Target{Name: t.Name, Type: t.Type, Resource: t.Resource, Sid: t.Sid, RoleArn: t.RoleArn, Options: t.Options()}
		if k, err := cfg.KindOf(t); err == nil && k.Rules().RecordedOwnership {
			out[i].Written = bookkeeping.Written(prev, t)
		}
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
