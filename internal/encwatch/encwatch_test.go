package encwatch_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/encwatch"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
)

// answers says valid for the first n questions, invalid after.
type answers struct {
	mu    sync.Mutex
	valid int
	asked int
}

func (a *answers) EncryptionAtRest(context.Context, string) (atlas.EncryptionAtRest, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked++
	return atlas.EncryptionAtRest{Valid: a.asked <= a.valid}, nil
}

type world struct {
	slept time.Duration
}

func (w *world) watch(a encwatch.Atlas, window time.Duration) encwatch.Watch {
	return encwatch.Watch{
		Atlas:       a,
		Projects:    [][]string{{"5aec7afbf7d068e35a39809b"}},
		Verify:      config.Verify{Window: config.Duration(window), Interval: config.Duration(10 * time.Second)},
		Sleep:       func(_ context.Context, d time.Duration) error { w.slept += d; return nil },
		Checkpoint:  func(string) {},
		Log:         slog.New(slog.DiscardHandler),
		CallTimeout: time.Second,
	}
}

func applied() []plan.TargetPlan {
	return []plan.TargetPlan{{Target: plan.Target{Name: "key"}, Status: plan.Applied,
		Actual: ipset.MustParse("1.1.1.1"), Add: ipset.MustParse("2.2.2.2"), Remove: ipset.MustParse("1.1.1.1")}}
}

// The watch asks right away and every interval of the window, and stops at
// the first project Atlas reports invalid.
func TestPoll(t *testing.T) {
	for _, tt := range []struct {
		name    string
		valid   int // questions answered valid
		invalid int
		slept   time.Duration
	}{
		{name: "valid for the whole window", valid: 100, slept: 30 * time.Second},
		{name: "lost after the change", valid: 1, invalid: 1, slept: 10 * time.Second},
		{name: "lost at once", valid: 0, invalid: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{}
			targets := applied()
			watch := w.watch(&answers{valid: tt.valid}, 30*time.Second)
			invalid := watch.Poll(context.Background(), "key", watch.Watching(0, &targets[0]))
			if len(invalid) != tt.invalid || w.slept != tt.slept {
				t.Fatalf("invalid %v, slept %s", invalid, w.slept)
			}
		})
	}
}

// What a rollback records: pending before the restoring write (holding the
// set to restore), then done, or still pending when the restore failed.
func TestRollbackDecisions(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name         string
		restoreErr   error
		status       plan.Status
		pendingAtEnd bool
	}{
		{name: "restored: rolled back and blocked", status: plan.RolledBack},
		{name: "the restore fails: an error, the block stays pending", restoreErr: errors.New("AccessDenied"), status: plan.Error, pendingAtEnd: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tp := &applied()[0]
			invalid := []string{"5aec7afbf7d068e35a39809b"}
			pending := encwatch.Pending(tp, invalid, now)
			if !pending.Pending || pending.Restore.String() != "[1.1.1.1/32]" || !pending.Since.Equal(now) {
				t.Fatalf("pending %+v", pending)
			}
			b := encwatch.RolledBack(tp, invalid, pending, tt.restoreErr)
			if tp.Status != tt.status || b.Pending != tt.pendingAtEnd || !strings.Contains(b.Reason, invalid[0]) || len(tp.InvalidAfter) != 1 {
				t.Fatalf("status %s (%s), block %+v", tp.Status, tp.Reason, b)
			}
		})
	}
}

// Before marks the projects Atlas already reports invalid; the watch after
// the change does not hold those against it.
func TestInvalidBeforeIsNotTheChangesFault(t *testing.T) {
	w := &world{}
	targets := applied()
	targets[0].Status = plan.Changes
	watch := w.watch(&answers{valid: 0}, 0)
	watch.Before(context.Background(), targets)
	if got := targets[0].InvalidBefore; len(got) != 1 {
		t.Fatalf("invalid before %v", got)
	}
	targets[0].Status = plan.Applied
	if projects := watch.Watching(0, &targets[0]); len(projects) != 0 {
		t.Fatalf("watching %v", projects)
	}
}
