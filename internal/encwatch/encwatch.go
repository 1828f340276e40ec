// Package encwatch is the encryption-at-rest watch around a run's writes:
// before a change to a fence that guards a project's encryption at rest it
// asks Atlas whether the key is usable; after it, it watches Atlas's
// awsKms.valid for the verify window and, when a project that was valid
// turns invalid, puts the owned part back and blocks the target until a
// human clears it (docs/operations.md "Rollback"). The loop reaches it
// through a small hook (reconcile.AfterApply); the I/O it needs comes in
// as functions.
package encwatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
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
	Projects [][]string
	Verify   config.Verify
	// Restore writes set into the target's owned part, as the fence is
	// now, and verifies it.
	Restore func(ctx context.Context, tp *plan.TargetPlan, set ipset.Set) error
	// Record stores a block as soon as it is decided (before and after
	// the restoring write), so a run that stops in between leaves the next
	// one to finish the rollback.
	Record      func(ctx context.Context, name string, b snapshot.Block)
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

// After polls Atlas for every applied target that guards encryption at
// rest, for the verify window. When a project that was valid before the
// change turns invalid, the owned part's previous set is restored at once
// and the target is blocked until a human clears it. It returns the new
// blocks.
//
// A target an earlier run changed but never recorded (it stopped, perhaps
// while watching) is watched too: its previous state is the set the record
// says it held.
func (w Watch) After(ctx context.Context, targets []plan.TargetPlan, now time.Time) map[string]snapshot.Block {
	var mu sync.Mutex
	blocks := map[string]snapshot.Block{}
	var wg sync.WaitGroup
	for i := range targets {
		tp := &targets[i]
		projects := without(w.Projects[i], tp.InvalidBefore)
		unrecorded := tp.Status == plan.InSync && tp.Unrecorded
		if (tp.Status != plan.Applied && !unrecorded) || len(projects) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, blocked := w.watchOne(ctx, tp, projects, now); blocked {
				mu.Lock()
				blocks[tp.Name] = b
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return blocks
}

// watchOne watches one target and rolls its change back when Atlas loses
// the key.
func (w Watch) watchOne(ctx context.Context, tp *plan.TargetPlan, projects []string, now time.Time) (snapshot.Block, bool) {
	invalid := w.pollValid(ctx, tp.Name, projects)
	if len(invalid) == 0 {
		return snapshot.Block{}, false
	}
	// Recorded first as pending: a run that stops before the restoring
	// write leaves the next run to finish the rollback.
	b := snapshot.Block{Since: now, Projects: invalid, Add: tp.Add, Remove: tp.Remove, Pending: true, Restore: HeldBefore(tp),
		Reason: fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change, which is rolled back", invalid)}
	w.Record(ctx, tp.Name, b)
	w.Checkpoint("rolling-back:" + tp.Name)
	w.rollBack(ctx, tp, invalid)
	if tp.Status == plan.RolledBack {
		b = Restored(b)
	} else {
		b.Reason = tp.Reason // the restore failed: still pending
	}
	w.Record(ctx, tp.Name, b)
	w.Checkpoint("rolled-back:" + tp.Name)
	return b, true
}

// pollValid asks right away, then every interval for as long as the
// window lasts (counted in intervals, not read off a clock); it returns the
// projects that turned invalid, at the first sign.
func (w Watch) pollValid(ctx context.Context, target string, projects []string) []string {
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

// rollBack puts the owned part's previous set back and verifies it. The
// fence is rewritten as it is now, not as it was read before the change:
// anything else someone changed in it meanwhile stays (docs/design.md
// "Ownership").
func (w Watch) rollBack(ctx context.Context, tp *plan.TargetPlan, invalid []string) {
	tp.InvalidAfter = invalid
	w.Log.Error("Atlas lost encryption at rest after the change: restoring the previous set", "target", tp.Name, "projects", invalid)
	if err := w.Restore(ctx, tp, HeldBefore(tp)); err != nil {
		tp.Status = plan.Error
		tp.Reason = fmt.Sprintf("Atlas reported encryption at rest invalid for %v after this change, and restoring the previous policy FAILED: %v. The policy may hold the change; the next run restores it again (or restore it by hand)", invalid, err)
		return
	}
	tp.Status = plan.RolledBack
	tp.Reason = RestoredReason(invalid)
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
