package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// applyAll writes and verifies every changed target, in parallel. A failure
// on one does not stop the others.
func (d Deps) applyAll(ctx context.Context, targets []plan.TargetPlan, o Options) {
	var changed []*plan.TargetPlan
	for i := range targets {
		if targets[i].Status == plan.Changes {
			changed = append(changed, &targets[i])
		}
	}
	d.each(len(changed), func(i int) {
		tp := changed[i]
		if err := d.writeAndVerify(ctx, "wrote:"+tp.Name, tp.Target, tp.Change, o); err != nil {
			d.Log.Error("target write failed", "target", tp.Name, "error", err.Error())
			tp.Status, tp.Reason = plan.Error, err.Error()
			return
		}
		d.Log.Info("target applied", "target", tp.Name, "add", tp.Add.Strings(), "remove", tp.Remove.Strings(), "drift", tp.Drift)
		tp.Status = plan.Applied
	})
}

// writeAndVerify writes the change, then reads the fence back until its
// owned part holds the change's set; a failure names the role the target is
// reached through (for the apply and for a rollback alike). step names the
// checkpoint after the write.
func (d Deps) writeAndVerify(ctx context.Context, step string, t plan.Target, c target.Change, o Options) (err error) {
	defer func() { err = target.ThroughRole(t.RoleArn, err) }()
	a, err := d.adapter(t.Type, t.RoleArn)
	if err != nil {
		return err
	}
	ref := t.Ref()
	wctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
	err = a.Write(wctx, ref, c)
	cancel()
	if err != nil {
		return err
	}
	d.checkpoint(step)
	ref.Written = append(slices.Clone(ref.Written), c.Set) // now ipsync's, whether recorded or not
	var last string
	for attempt := 1; attempt <= o.VerifyAttempts; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
		f, err := a.Read(rctx, ref)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case f.Owned().Equal(c.Set):
			return nil
		default:
			last = fmt.Sprintf("it holds %v", f.Owned())
		}
		if attempt < o.VerifyAttempts {
			if err := d.sleep(ctx, o.VerifyWait); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("written, but reading it back %d times did not show the desired set (%s)", o.VerifyAttempts, last)
}
