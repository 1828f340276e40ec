package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/bookkeeping"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// pass is one pass of the loop: what it has read and decided so far. Its
// steps run in runOnce's order; each either goes on or ends the pass with
// the report to return (Run settles its status).
type pass struct {
	d       Deps
	cfg     *config.Config
	o       Options
	now     time.Time
	prev    stored             // the snapshot as this pass last read or wrote it
	fetched *snapshot.Snapshot // Atlas's answer
	inputs  []plan.Input
	r       Report
}

// runOnce is one pass of the loop: load → fetch → read and plan → claim →
// apply and watch → record and notify.
func runOnce(ctx context.Context, cfg *config.Config, d Deps, o Options, holder string) Report {
	p := &pass{d: d, cfg: cfg, o: o, now: d.Now().UTC().Truncate(time.Second), prev: stored{holder: holder}}
	if err := p.load(ctx); err != nil {
		return p.failed(ctx, err)
	}
	if err := p.fetch(ctx); err != nil {
		return p.failed(ctx, err)
	}
	p.plan(ctx)
	if p.o.DryRun || p.r.Err != nil {
		return p.r // a plan, or a saved plan that no longer holds: nothing is written
	}
	if p.r.Status == plan.Refused {
		// The source is suspect: no target and no address record is written.
		p.d.Log.Warn("refused by a guard: nothing written")
		return p.d.finish(ctx, p.o, p.r, p.prev, nil, false)
	}
	if done := p.claim(ctx); done {
		return p.r
	}
	watched, blocks := p.applyAndWatch(ctx)
	return p.record(ctx, watched, blocks)
}

// load reads the stored snapshot.
func (p *pass) load(ctx context.Context) error {
	var err error
	p.prev, err = p.d.load(ctx, p.o, p.prev.holder)
	return err
}

// fetch asks Atlas.
func (p *pass) fetch(ctx context.Context) error {
	var err error
	p.fetched, p.r, err = p.d.fetch(ctx, p.cfg, p.prev.snap, p.now)
	if err == nil {
		p.d.checkpoint("fetched")
	}
	return err
}

// failed ends a pass that could not plan: alert (on the transition) and
// keep the snapshot.
func (p *pass) failed(ctx context.Context, err error) Report {
	r := p.d.fail(ctx, p.o, p.prev, err)
	r.FetchDuration = p.r.FetchDuration
	return r
}

// plan reads every fence and plans; a saved plan that no longer matches
// ends the pass refused, with the error saying what moved.
func (p *pass) plan(ctx context.Context) {
	p.inputs = p.d.inputs(ctx, p.cfg, p.fetched, p.prev.snap, p.o)
	guards := guardsOf(p.cfg)
	pl := plan.Build(p.inputs, guards, p.now)
	p.d.sharedLimits(ctx, &pl, p.inputs, guards, p.now, p.o.CallTimeout)
	p.r.Status, p.r.Targets = pl.Status, pl.Targets
	if p.o.Expect == nil {
		return
	}
	if moved := p.o.Expect.Moved(p.r.Hash, p.r.Targets); moved != "" {
		p.r.Status = plan.Refused
		p.r.Err = fmt.Errorf("the saved plan no longer matches: %s; nothing was written, run plan again", moved)
	}
}

// claim takes the snapshot's lease when the pass will write (or watch a
// change it may roll back). It ends the pass when another run holds the
// lease, the claim fails, or a change to verify has no Atlas to ask.
func (p *pass) claim(ctx context.Context) (done bool) {
	writes := anyChanges(p.r.Targets) || watchesUnrecorded(p.cfg, p.r.Targets) || anyRestores(p.r.Targets)
	if busy := leased(p.prev.snap, p.prev.holder, p.now); busy != nil {
		if writes {
			p.r.Err = busy // wait for it, then start again
		}
		return true // with nothing to write, the lease holder records the snapshot
	}
	if writes {
		var err error
		if p.prev, err = p.d.claim(ctx, p.o, p.prev, p.fetched, p.r.Targets, p.now); err != nil {
			p.r = claimFailed(p.r, err)
			return true
		}
	}
	if p.d.Encryption == nil && guardsEncryption(p.cfg, p.r.Targets) {
		p.r.Status, p.r.Err = plan.Error, errors.New("a changed target has encryptionAtRestProjects, but no Atlas client was given to verify the change with")
		return true
	}
	return false
}

// applyAndWatch finishes the rollbacks earlier runs decided, writes the
// changes and watches those that guard encryption at rest; it returns the
// snapshot as the watch left it and the blocks to record.
func (p *pass) applyAndWatch(ctx context.Context) (*blockLog, map[string]snapshot.Block) {
	finished := p.d.finishRollbacks(ctx, p.r.Targets, p.prev.snap, p.o)
	watched := &blockLog{stored: p.prev}
	watch := p.d.encryptionWatch(p.cfg)
	watch.CallTimeout = p.o.CallTimeout
	watch.Before(ctx, p.r.Targets)
	p.d.applyAll(ctx, p.r.Targets, p.o)
	blocks := p.d.watchAfter(ctx, watch, p.r.Targets, watched, p.o, p.now)
	maps.Copy(blocks, finished)
	return watched, blocks
}

// record turns what the pass did into the next snapshot, publishes the
// targets' sets beside it, records it and sends the alerts.
func (p *pass) record(ctx context.Context, watched *blockLog, blocks map[string]snapshot.Block) Report {
	next := bookkeeping.Next(watched.snap, p.fetched, p.r.Targets, blocks, p.now)
	unpublished := p.d.publishSets(ctx, p.o, p.r.Targets, next, p.now)
	r := p.d.finish(ctx, p.o, p.r, watched.stored, next, true)
	if unpublished != nil && r.Err == nil {
		r.Err = unpublished
	}
	return r
}
