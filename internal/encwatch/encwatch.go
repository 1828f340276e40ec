// Package encwatch is the encryption-at-rest watch around a run's writes:
// before a change to a fence that guards a project's encryption at rest it
// asks Atlas whether the key is usable; after it, it watches Atlas's
// awsKms.valid for the verify window and, when a project that was valid
// turns invalid, puts the owned part back and blocks the target until a
// human clears it (docs/operations.md "Rollback"). It asks Atlas and
// decides; the loop does the writes it decides on (recording the block,
// restoring the fence) and never hands it a way back in.
package encwatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// Atlas answers whether a project's encryption at rest can still use its
// AWS KMS key.
type Atlas interface {
	EncryptionAtRest(ctx context.Context, groupID string) (atlas.EncryptionAtRest, error)
}

// Watch is the watch of one run.
type Watch struct {
	Atlas Atlas
	// Projects are, per target (in the plan's order), the projects whose
	// encryption at rest it guards.
	Projects    [][]string
	Verify      config.Verify
	Sleep       func(ctx context.Context, d time.Duration) error
	Checkpoint  func(step string)
	Log         *slog.Logger
	CallTimeout time.Duration
}

// invalidProjects asks Atlas about each project once and returns those that
// answered awsKms.valid false. A project Atlas could not answer for is not
// counted invalid: only Atlas saying so may roll a change back.
func (w Watch) invalidProjects(ctx context.Context, projects []string) (invalid []string, errs []error) {
	for _, p := range projects {
		cctx, cancel := context.WithTimeout(ctx, w.CallTimeout)
		e, err := w.Atlas.EncryptionAtRest(cctx, p)
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

// Before asks, for every target about to change that guards encryption at
// rest, whether Atlas can use the key now. An invalid answer is reported
// (and alerted) with its likely cause: the addresses the live policy lacks.
func (w Watch) Before(ctx context.Context, targets []plan.TargetPlan) {
	for i := range targets {
		tp, projects := &targets[i], w.Projects[i]
		if tp.Status != plan.Changes || len(projects) == 0 {
			continue
		}
		invalid, errs := w.invalidProjects(ctx, projects)
		for _, err := range errs {
			w.Log.Warn("could not check encryption at rest before the change", "target", tp.Name, "error", err.Error())
		}
		if len(invalid) > 0 {
			tp.InvalidBefore = invalid
			w.Log.Warn("Atlas reports encryption at rest invalid before any change", "target", tp.Name, "projects", invalid, "missing", tp.Add.Strings())
		}
	}
}

// Watching is the projects to watch target i for after the run's
// writes, or none: an applied target that guards encryption at rest, or
// one an earlier run changed and never recorded (it stopped, perhaps while
// watching; its previous state is the set the record says it held). A
// project Atlas already reported invalid before the change is not held
// against it.
func (w Watch) Watching(i int, tp *plan.TargetPlan) []string {
	unrecorded := tp.Status == plan.InSync && tp.Unrecorded
	if tp.Status != plan.Applied && !unrecorded {
		return nil
	}
	return without(w.Projects[i], tp.InvalidBefore)
}

// Pending is the block a rollback records before its restoring write, so
// that a run that stops in between leaves the next run to finish it.
func Pending(tp *plan.TargetPlan, invalid []string, now time.Time) snapshot.Block {
	return snapshot.Block{Since: now, Projects: invalid, Add: tp.Add, Remove: tp.Remove, Pending: true, Restore: HeldBefore(tp),
		Reason: fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change, which is rolled back", invalid)}
}

// RolledBack is how a target ends once its restore was tried (err its
// failure), and the block to record then: done, or still pending.
func RolledBack(tp *plan.TargetPlan, invalid []string, pending snapshot.Block, err error) snapshot.Block {
	tp.InvalidAfter = invalid
	if err != nil {
		tp.Status = plan.Error
		tp.Reason = fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change, and restoring the previous policy FAILED: %v. The policy may hold the change; the next run restores it again (or restore it by hand)", invalid, err)
		pending.Reason = tp.Reason
		return pending
	}
	tp.Status, tp.Reason = plan.RolledBack, RestoredReason(invalid)
	return Restored(pending)
}

// Poll asks right away, then every interval for as long as the window
// lasts (counted in intervals, not read off a clock); it returns the
// projects that turned invalid, at the first sign.
func (w Watch) Poll(ctx context.Context, target string, projects []string) []string {
	if len(projects) == 0 {
		return nil
	}
	window, interval := time.Duration(w.Verify.Window), time.Duration(w.Verify.Interval)
	for elapsed := time.Duration(0); ; elapsed += interval {
		w.Checkpoint("verify:" + target)
		invalid, errs := w.invalidProjects(ctx, projects)
		for _, err := range errs {
			w.Log.Warn("could not verify with Atlas after the change", "target", target, "error", err.Error())
		}
		if len(invalid) > 0 || elapsed+interval > window || interval <= 0 {
			return invalid
		}
		if w.Sleep(ctx, interval) != nil {
			return nil
		}
	}
}

// HeldBefore is the set the owned part held before the change being
// watched: what this run read, or, for a change an earlier run made and
// never recorded, what the record says it held.
func HeldBefore(tp *plan.TargetPlan) ipset.Set {
	if tp.Unrecorded {
		return ipset.Union(tp.Actual.Minus(tp.Add), tp.Remove)
	}
	return tp.Actual
}

// RestoredReason says why a target is blocked once its rollback is done.
func RestoredReason(projects []string) string {
	return fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change; the previous policy was restored", projects)
}

// Restored is the block once its rollback is written and verified.
func Restored(b snapshot.Block) snapshot.Block {
	b.Reason = RestoredReason(b.Projects)
	b.Pending, b.Restore = false, ipset.Set{}
	return b
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
