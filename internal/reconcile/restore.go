package reconcile

import (
	"context"
	"fmt"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/encwatch"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// A rollback is recorded as a pending block before its restoring write
// (internal/encwatch). A later run that finds one finishes it: the plan restores
// the owned statement to the set the block names, unless it already holds
// it (plan.Input.Restore), and the block becomes an ordinary one.

// pendingRestore is the set a pending block says to restore, or nil.
func pendingRestore(prev *snapshot.Snapshot, name string) *ipset.Set {
	if prev == nil {
		return nil
	}
	b, ok := prev.Blocked[name]
	if !ok || !b.Pending {
		return nil
	}
	return &b.Restore
}

// anyRestores reports whether a planned restore needs a write.
func anyRestores(ts []plan.TargetPlan) bool {
	for _, t := range ts {
		if t.Restore != nil {
			return true
		}
	}
	return false
}

// finishRollbacks writes the planned restores and returns the pending
// blocks that are now done, as ordinary blocks. A restore that fails leaves
// its block pending, for the next run.
func (d Deps) finishRollbacks(ctx context.Context, targets []plan.TargetPlan, prev *snapshot.Snapshot, o Options) map[string]snapshot.Block {
	done := map[string]snapshot.Block{}
	for i := range targets {
		tp := &targets[i]
		if pendingRestore(prev, tp.Name) == nil || tp.Status != plan.Blocked {
			continue
		}
		b := prev.Blocked[tp.Name]
		if tp.Restore != nil {
			d.Log.Warn("finishing a rollback an earlier run decided", "target", tp.Name, "add", tp.Add.Strings(), "remove", tp.Remove.Strings())
			if err := d.writeAndVerify(ctx, "restored:"+tp.Name, tp.Target, tp.Change, o); err != nil {
				tp.Status = plan.Error
				tp.Reason = fmt.Sprintf("Atlas reported encryption at rest invalid for %v after a change an earlier run made, and restoring the previous policy FAILED: %v. The next run tries again (or restore it by hand)", b.Projects, err)
				continue
			}
			tp.Reason = blockedReason(prev, tp.Name) + "; the run that rolled it back stopped before restoring the policy, and this run restored it (+/- below)" + plan.UntilUnblock(tp.Name)
		}
		done[tp.Name] = encwatch.Restored(b)
	}
	return done
}
