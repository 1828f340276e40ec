package scenarios_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
)

// TestFiftyConcurrentRuns: 50 reconciles race on one snapshot while Atlas's
// answer changes three times. The policy ends equal to the truth, it is
// written at most once per state Atlas passed through, and the snapshot's
// record agrees with the policy (no lost update).
func TestFiftyConcurrentRuns(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		answers := [][]string{
			{"3.92.113.229", "3.212.79.116", "34.193.91.42"},
			{"3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"},
			{"3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7", "44.210.7.8"},
			{"3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7", "44.210.7.8", "44.210.7.9"},
		}
		const runs = 50
		var wg sync.WaitGroup
		reports := make([]reconcile.Report, runs)
		// Atlas's answer changes after every 12 finished runs: events, not a
		// timer, so the changes land while others still race however
		// loaded the machine is.
		var mu sync.Mutex
		finished := 0
		done := func() {
			mu.Lock()
			defer mu.Unlock()
			if finished++; finished%12 == 0 && finished/12 < len(answers) {
				s.Sim.SetControlPlane(reconciletest.ControlPlane(answers[finished/12]...))
			}
		}
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer done()
				reports[i] = reconcile.Run(context.Background(), s.Cfg, s.Deps(t), reconcile.Options{VerifyWait: 10 * time.Millisecond})
			}()
		}
		wg.Wait() // every change has landed: each happened as a run finished
		// One more run after the dust settles: it must find nothing to do.
		final := s.Run(t, reconcile.Options{})
		if final.Err != nil || final.Status != plan.InSync {
			t.Fatalf("after the race: %s %v %+v", final.Status, final.Err, final.Targets)
		}
		failed := 0
		for _, r := range reports {
			if r.Err != nil {
				failed++
				t.Logf("a racing run failed (it would be retried): %v", r.Err)
			}
		}
		truth := strings.Trim(ipset.MustParse(append(answers[len(answers)-1], "198.51.100.10")...).String(), "[]")
		live := k.Live(t, s)
		if live != truth {
			t.Fatalf("final policy %s, want %s", live, truth)
		}
		writes := k.Writes(s)
		if writes < 1 || writes > len(answers) {
			t.Fatalf("%d policy writes for %d states of Atlas's answer", writes, len(answers))
		}
		store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
		snap, _, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rec := snap.Targets["target"]; strings.Trim(rec.Written.String(), "[]") != truth || snap.Lease != nil {
			t.Fatalf("snapshot record %v (lease %+v), want %s: an update was lost", rec.Written, snap.Lease, truth)
		}
		t.Logf("%d runs, %d policy writes, %d runs failed under contention", runs, writes, failed)
		if failed > 0 {
			t.Errorf("%d of %d racing runs failed; every run must converge", failed, runs)
		}
	})
}
