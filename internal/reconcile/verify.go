package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// EncryptionStatus asks Atlas whether a project's encryption at rest can
// still use its AWS KMS key.
type EncryptionStatus interface {
	EncryptionAtRest(ctx context.Context, groupID string) (atlas.EncryptionAtRest, error)
}

// invalidProjects asks Atlas about each project once and returns those that
// answered awsKms.valid false. A project Atlas could not answer for is not
// counted invalid: only Atlas saying so may roll a change back.
func (d Deps) invalidProjects(ctx context.Context, projects []string, timeout time.Duration) (invalid []string, errs []error) {
	for _, p := range projects {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		e, err := d.Encryption.EncryptionAtRest(cctx, p)
		cancel()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("ask Atlas about encryption at rest of project %s: %w", p, err))
		case !e.Valid:
			invalid = append(invalid, p)
		}
	}
	return invalid, errs
}

// checkBefore asks, for every target about to change that guards encryption
// at rest, whether Atlas can use the key now. An invalid answer is reported
// (and alerted) with its likely cause: the addresses the live policy lacks.
func (d Deps) checkBefore(ctx context.Context, cfg *config.Config, targets []plan.TargetPlan, o Options) {
	for i := range targets {
		tp, projects := &targets[i], cfg.Targets[i].EncryptionAtRestProjects
		if tp.Status != plan.Changes || len(projects) == 0 {
			continue
		}
		invalid, errs := d.invalidProjects(ctx, projects, o.CallTimeout)
		for _, err := range errs {
			d.Log.Warn("could not check encryption at rest before the change", "target", tp.Name, "error", err.Error())
		}
		if len(invalid) > 0 {
			tp.InvalidBefore = invalid
			d.Log.Warn("Atlas reports encryption at rest invalid before any change", "target", tp.Name, "projects", invalid, "missing", tp.Add.Strings())
		}
	}
}

// watchAfter polls Atlas for every applied target that guards encryption at
// rest, for cfg.Verify.Window. When a project that was valid before the
// change turns invalid, the owned statement's previous set is restored at
// once and the target is blocked until a human clears it: the block is
// recorded in blocked before and after the rollback. It returns the new
// blocks.
//
// A target an earlier run changed but never recorded (it stopped, perhaps
// while watching) is watched too: its previous state is the set the record
// says it held.
func (d Deps) watchAfter(ctx context.Context, cfg *config.Config, targets []plan.TargetPlan, o Options, now time.Time, blocked *blockLog) map[string]snapshot.Block {
	var mu sync.Mutex
	blocks := map[string]snapshot.Block{}
	var wg sync.WaitGroup
	for i := range targets {
		tp := &targets[i]
		projects := without(cfg.Targets[i].EncryptionAtRestProjects, tp.InvalidBefore)
		unrecorded := tp.Status == plan.InSync && tp.Unrecorded
		if (tp.Status != plan.Applied && !unrecorded) || len(projects) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			invalid := d.pollValid(ctx, tp.Name, projects, cfg.Verify, o)
			if len(invalid) == 0 {
				return
			}
			// Recorded first as pending: a run that stops before the
			// restoring write leaves the next run to finish the rollback.
			b := snapshot.Block{Since: now, Projects: invalid, Add: tp.Add, Remove: tp.Remove, Pending: true, Restore: heldBefore(tp),
				Reason: fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change, which is rolled back", invalid)}
			d.recordBlock(ctx, blocked, tp.Name, b, o.CallTimeout)
			d.checkpoint("rolling-back:" + tp.Name)
			d.rollBack(ctx, tp, invalid, o)
			if tp.Status == plan.RolledBack {
				b = restored(b)
			} else {
				b.Reason = tp.Reason // the restore failed: still pending
			}
			d.recordBlock(ctx, blocked, tp.Name, b, o.CallTimeout)
			mu.Lock()
			blocks[tp.Name] = b
			mu.Unlock()
			d.checkpoint("rolled-back:" + tp.Name)
		}()
	}
	wg.Wait()
	return blocks
}

// blockLog is the snapshot as stored while targets are watched: the one the
// run claimed, then with each block recorded so far.
type blockLog struct {
	mu sync.Mutex
	stored
}

// recordBlock stores a block as soon as its rollback is done. The run
// records everything else at its end, but another target may keep it
// watching for the rest of the verify window; a run that stopped in between
// would leave the next one to make the rolled-back change again. If this
// write fails, the record at the end still carries the block.
func (d Deps) recordBlock(ctx context.Context, stored *blockLog, name string, b snapshot.Block, timeout time.Duration) {
	stored.mu.Lock()
	defer stored.mu.Unlock()
	if stored.snap == nil {
		return
	}
	next := *stored.snap
	next.Blocked = maps.Clone(stored.snap.Blocked)
	if next.Blocked == nil {
		next.Blocked = map[string]snapshot.Block{}
	}
	next.Blocked[name] = b
	cctx, cancel := context.WithTimeout(ctx, timeout)
	v, err := d.Store.Save(cctx, &next, stored.version)
	cancel()
	if err != nil {
		d.Log.Error("could not record the block right after the rollback; the run's record at its end carries it", "target", name, "error", err.Error())
		return
	}
	stored.snap, stored.version = &next, v
}

// pollValid asks right away, then every interval for as long as the
// window lasts (counted in intervals, not read off a clock); it returns the
// projects that turned invalid, at the first sign.
func (d Deps) pollValid(ctx context.Context, target string, projects []string, v config.Verify, o Options) []string {
	window, interval := time.Duration(v.Window), time.Duration(v.Interval)
	for elapsed := time.Duration(0); ; elapsed += interval {
		d.checkpoint("verify:" + target)
		invalid, errs := d.invalidProjects(ctx, projects, o.CallTimeout)
		for _, err := range errs {
			d.Log.Warn("could not verify with Atlas after the change", "target", target, "error", err.Error())
		}
		if len(invalid) > 0 || elapsed+interval > window || interval <= 0 {
			return invalid
		}
		if d.sleep(ctx, interval) != nil {
			return nil
		}
	}
}

// heldBefore is the set the owned statement held before the change being
// watched: what this run read, or, for a change an earlier run made and
// never recorded, what the record says it held.
func heldBefore(tp *plan.TargetPlan) ipset.Set {
	if tp.Unrecorded {
		return ipset.Union(tp.Actual.Minus(tp.Add), tp.Remove)
	}
	return tp.Actual
}

// rollBack puts the owned statement's previous set back and verifies it.
// It rewrites the policy as it is now, not as it was read before the change:
// anything else someone changed in it meanwhile stays (DESIGN, Ownership).
func (d Deps) rollBack(ctx context.Context, tp *plan.TargetPlan, invalid []string, o Options) {
	tp.InvalidAfter = invalid
	d.Log.Error("Atlas lost encryption at rest after the change: restoring the previous set", "target", tp.Name, "projects", invalid)
	if err := d.restorePrevious(ctx, tp, o); err != nil {
		tp.Status = plan.Error
		tp.Reason = fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change, and restoring the previous policy FAILED: %v. The policy may hold the change; the next run restores it again (or restore it by hand)", invalid, err)
		return
	}
	tp.Status = plan.RolledBack
	tp.Reason = restoredReason(invalid)
}

// restorePrevious rewrites the owned part, in the fence as it is now, to
// the set it held before the change.
func (d Deps) restorePrevious(ctx context.Context, tp *plan.TargetPlan, o Options) error {
	live, err := d.readFence(ctx, tp.Type, tp.RoleArn, target.Ref{Resource: tp.Resource, Sid: tp.Sid}, o.CallTimeout)
	var notOwned *target.NotOwnedError
	switch {
	case errors.As(err, &notOwned):
		return fmt.Errorf("find the owned statement to restore: %w", err)
	case err != nil:
		return fmt.Errorf("read the policy to restore: %w", err)
	}
	previous, err := live.Rewrite(heldBefore(tp), live.Capacity())
	if err != nil {
		return fmt.Errorf("rebuild the previous policy: %w", err)
	}
	return d.writeAndVerify(ctx, "restored:"+tp.Name, tp.Target, previous, o)
}

func without(all, drop []string) []string {
	var out []string
	for _, a := range all {
		keep := true
		for _, d := range drop {
			keep = keep && a != d
		}
		if keep {
			out = append(out, a)
		}
	}
	return out
}
