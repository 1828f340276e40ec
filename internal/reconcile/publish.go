package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/bookkeeping"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// besideWriter is a snapshot store that can keep other objects beside the
// snapshot (both of ipsync's stores can).
type besideWriter interface {
	PutBeside(ctx context.Context, rel string, body []byte) error
}

// publishSets writes, beside the snapshot, the set of each target in sync
// whose set changed since it was last published, and marks it published in
// next (recorded with the run), so that infrastructure as code can render
// the same values (docs/iac.md). A set not written is the run's error
// (after any error of recording), and is tried again by the next run: IaC
// must not render a stale set for long.
func (d Deps) publishSets(ctx context.Context, o Options, targets []plan.TargetPlan, next *snapshot.Snapshot, now time.Time) error {
	w, ok := d.Store.(besideWriter)
	if !ok {
		return nil
	}
	var first error
	for _, tp := range bookkeeping.Unpublished(next, targets) {
		rec := next.Targets[tp.Name]
		body, err := snapshot.NewTargetSet(tp.Name, string(tp.Type), tp.Resource, rec.Written, now).Marshal()
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, o.CallTimeout)
			err = w.PutBeside(pctx, snapshot.TargetSetPath(tp.Name), body)
			cancel()
		}
		if err != nil {
			d.Log.Error("target's set not published for infrastructure as code", "target", tp.Name, "error", err.Error())
			if first == nil {
				first = fmt.Errorf("publish the set of target %s: %w", tp.Name, err)
			}
			continue
		}
		rec.Published = snapshot.SetHash(rec.Written)
		next.Targets[tp.Name] = rec
	}
	return first
}
