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
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
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
	restored []ipset.Set
	records  []snapshot.Block
	slept    time.Duration
	failWith error
}

func (w *world) watch(a encwatch.Atlas, window time.Duration) encwatch.Watch {
	return encwatch.Watch{
		Atlas:    a,
		Projects: [][]string{{"5aec7afbf7d068e35a39809b"}},
		Verify:   config.Verify{Window: config.Duration(window), Interval: config.Duration(10 * time.Second)},
		Restore: func(_ context.Context, _ *plan.TargetPlan, set ipset.Set) error {
			w.restored = append(w.restored, set)
			return w.failWith
		},
		Record:      func(_ context.Context, _ string, b snapshot.Block) { w.records = append(w.records, b) },
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

func TestTheWatch(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name              string
		valid             int // questions answered valid
		failRestore       error
		status            plan.Status
		restores, records int
		pendingAtEnd      bool
		slept             time.Duration
	}{
		{name: "valid for the whole window: nothing to do", valid: 100, status: plan.Applied, slept: 30 * time.Second},
		{name: "lost after the change: rolled back and blocked", valid: 1, status: plan.RolledBack, restores: 1, records: 2, slept: 10 * time.Second},
		{name: "the restore fails: an error, the block stays pending", valid: 0, failRestore: errors.New("AccessDenied"), status: plan.Error, restores: 1, records: 2, pendingAtEnd: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &world{failWith: tt.failRestore}
			targets := applied()
			blocks := w.watch(&answers{valid: tt.valid}, 30*time.Second).After(context.Background(), targets, now)
			tp := targets[0]
			if tp.Status != tt.status || len(w.restored) != tt.restores || len(w.records) != tt.records || w.slept != tt.slept {
				t.Fatalf("status %s (%s), %d restores, %d records, slept %s", tp.Status, tp.Reason, len(w.restored), len(w.records), w.slept)
			}
			if tt.restores == 0 {
				if len(blocks) != 0 {
					t.Fatalf("blocks %v", blocks)
				}
				return
			}
			if w.restored[0].String() != "[1.1.1.1/32]" || !w.records[0].Pending || w.records[0].Restore.String() != "[1.1.1.1/32]" {
				t.Errorf("restored %v; first record %+v", w.restored, w.records[0])
			}
			if b := blocks["key"]; b.Pending != tt.pendingAtEnd || !b.Since.Equal(now) || !strings.Contains(b.Reason, "5aec7afbf7d068e35a39809b") {
				t.Errorf("block %+v", b)
			}
		})
	}
}

// Before marks the projects Atlas already reports invalid; After does not
// hold those against the change.
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
	if blocks := watch.After(context.Background(), targets, time.Now()); len(blocks) != 0 || len(w.restored) != 0 {
		t.Fatalf("blocks %v, restores %d", blocks, len(w.restored))
	}
}
