package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/encwatch"
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

// encryptionWatch is the run's encryption-at-rest watch: it asks
// d.Encryption and decides; the loop writes what it decides.
func (d Deps) encryptionWatch(cfg *config.Config) encwatch.Watch {
	projects := make([][]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		projects[i] = t.EncryptionAtRestProjects
	}
	return encwatch.Watch{Atlas: d.Encryption, Projects: projects, Verify: cfg.Verify, Sleep: d.sleep, Checkpoint: d.checkpoint, Log: d.Log}
}

// watchAfter polls Atlas, for the verify window, for every target the
// watch says to, side by side. When a project that was valid before the
// change turns invalid, the block is recorded (pending), the owned part's
// previous set restored at once, and the block recorded again (done, or
// still pending if the restore failed). It returns the new blocks.
func (d Deps) watchAfter(ctx context.Context, w encwatch.Watch, targets []plan.TargetPlan, stored *blockLog, o Options, now time.Time) map[string]snapshot.Block {
	w.CallTimeout = o.CallTimeout
	var mu sync.Mutex
	blocks := map[string]snapshot.Block{}
	var wg sync.WaitGroup
	for i := range targets {
		tp := &targets[i]
		projects := w.Watching(i, tp)
		if len(projects) == 0 {
			continue
		}
		wg.Go(func() {
			invalid := w.Poll(ctx, tp.Name, projects)
			if len(invalid) == 0 {
				return
			}
			b := d.rollBack(ctx, tp, invalid, stored, o, now)
			mu.Lock()
			blocks[tp.Name] = b
			mu.Unlock()
		})
	}
	wg.Wait()
	return blocks
}

// rollBack records the pending block, restores the fence as it is now to
// what it held before the change (anything else someone changed in it
// meanwhile stays: docs/design.md "Ownership"), and records how that went.
func (d Deps) rollBack(ctx context.Context, tp *plan.TargetPlan, invalid []string, stored *blockLog, o Options, now time.Time) snapshot.Block {
	b := encwatch.Pending(tp, invalid, now)
	d.recordBlock(ctx, stored, tp.Name, b, o.CallTimeout)
	d.checkpoint("rolling-back:" + tp.Name)
	d.Log.Error("Atlas lost encryption at rest after the change: restoring the previous set", "target", tp.Name, "projects", invalid)
	b = encwatch.RolledBack(tp, invalid, b, d.restorePrevious(ctx, tp, encwatch.HeldBefore(tp), o))
	d.recordBlock(ctx, stored, tp.Name, b, o.CallTimeout)
	d.checkpoint("rolled-back:" + tp.Name)
	return b
}

// blockLog is the snapshot as stored while targets are watched: the one the
// run claimed, then with each block recorded so far.
type blockLog struct {
	mu sync.Mutex
	stored
}

// recordBlock stores a block as soon as its rollback is decided or done.
// The run records everything else at its end, but another target may keep
// it watching for the rest of the verify window; a run that stopped in
// between would leave the next one to make the rolled-back change again.
// If this write fails, the record at the end still carries the block.
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

// restorePrevious rewrites the owned part, in the fence as it is now, to
// set (what it held before the change), and verifies it.
func (d Deps) restorePrevious(ctx context.Context, tp *plan.TargetPlan, set ipset.Set, o Options) error {
	// The change this run wrote is ipsync's, though not yet recorded.
	t := tp.Target
	t.Written = append(slices.Clone(t.Written), tp.Change.Set)
	live, err := d.readFence(ctx, t.Type, t.RoleArn, t.Ref(), o.CallTimeout)
	var notOwned *target.NotOwnedError
	switch {
	case errors.As(err, &notOwned):
		return fmt.Errorf("find the owned statement to restore: %w", err)
	case err != nil:
		return fmt.Errorf("read the policy to restore: %w", err)
	}
	previous, err := live.Rewrite(set, live.Capacity())
	if err != nil {
		return fmt.Errorf("rebuild the previous policy: %w", err)
	}
	return d.writeAndVerify(ctx, "restored:"+tp.Name, t, previous, o)
}
