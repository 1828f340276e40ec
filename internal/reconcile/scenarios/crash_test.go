package scenarios_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
)

// TestCrashAtEveryStep stops a run at each step boundary, the way a crash
// would (its context is cancelled there, so nothing after it can reach AWS),
// then starts a new run. It must converge to the truth, remove nothing before
// the grace ends, and announce the change exactly once.
func TestCrashAtEveryStep(t *testing.T) {
	steps := []string{"fetched", "wrote:target", "before-record", "recorded", "before-notify"}
	for _, k := range reconciletest.Kinds {
		for _, step := range steps {
			t.Run(string(k.Name)+"/"+step, func(t *testing.T) {
				s := reconciletest.NewStack(t, k, "")
				if r := s.Run(t, reconcile.Options{}); r.Err != nil {
					t.Fatal(r.Err)
				}
				s.Alerts(t)
				// Atlas adds 44.210.7.7 and drops 34.193.91.42.
				s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "44.210.7.7"))
				s.Advance(time.Minute)

				ctx, crash := context.WithCancel(context.Background())
				d := s.Deps(t)
				var once sync.Once
				crashed := false
				d.Checkpoint = func(at string) {
					if at == step {
						once.Do(func() { crashed = true; crash() })
					}
				}
				reconcile.Run(ctx, s.Cfg, d, reconcile.Options{VerifyWait: 10 * time.Millisecond})
				if !crashed {
					t.Fatalf("the run never reached %q", step)
				}
				// The next scheduled run, after the dead run's lease has expired.
				s.Advance(3 * time.Minute)
				r := s.Run(t, reconcile.Options{})
				if r.Err != nil || (r.Status != plan.InSync && r.Status != plan.Applied) {
					t.Fatalf("run after the crash: %s %v %+v", r.Status, r.Err, r.Targets)
				}
				live := k.Live(t, s)
				if !strings.Contains(live, "44.210.7.7/32") {
					t.Fatalf("the addition is missing: %s", live)
				}
				if !strings.Contains(live, "34.193.91.42/32") {
					t.Fatalf("an address was removed before its grace ended: %s", live)
				}
				if dry := s.Run(t, reconcile.Options{DryRun: true}); dry.Status != plan.InSync {
					t.Fatalf("not converged: %s", dry.Status)
				}
				msgs := s.Alerts(t)
				if reconciletest.Events(msgs) != "applied" || !strings.Contains(msgs[0].Message, "+ 44.210.7.7/32") {
					t.Fatalf("alerts %q, want the change announced exactly once: %+v", reconciletest.Events(msgs), msgs)
				}
				snap, _, err := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json").Load(context.Background())
				if err != nil || len(snap.Outbox) != 0 || snap.Lease != nil || !strings.Contains(snap.Targets["target"].Written.String(), "44.210.7.7") {
					t.Fatalf("snapshot after recovery: outbox %d, lease %+v, record %v (%v)", len(snap.Outbox), snap.Lease, snap.Targets["target"].Written, err)
				}
				// And a later run stays quiet.
				s.Run(t, reconcile.Options{})
				if again := s.Alerts(t); len(again) != 0 {
					t.Fatalf("announced again: %q", reconciletest.Events(again))
				}
			})
		}
	}
}

// An address only a crashed run wrote (it stopped after the write, before
// recording) that Atlas drops before any run records it keeps the removal
// grace: the claim said the run was about to write it, so the next run
// takes it for ipsync's, not for a hand edit to remove at once.
func TestAnAddressOnlyACrashedRunWroteKeepsTheGrace(t *testing.T) {
	for _, k := range reconciletest.Kinds {
		t.Run(string(k.Name), func(t *testing.T) {
			s := reconciletest.NewStack(t, k, "")
			if r := s.Run(t, reconcile.Options{}); r.Err != nil {
				t.Fatal(r.Err)
			}
			s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"))
			s.Advance(time.Minute)
			ctx, crash := context.WithCancel(context.Background())
			d := s.Deps(t)
			d.Checkpoint = func(at string) {
				if at == "before-record" {
					crash()
				}
			}
			reconcile.Run(ctx, s.Cfg, d, reconcile.Options{VerifyWait: 10 * time.Millisecond})
			if live := k.Live(t, s); !strings.Contains(live, "44.210.7.7/32") {
				t.Fatalf("the crashed run did not write: %s", live)
			}
			s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42"))
			s.Advance(3 * time.Minute) // past the dead run's lease
			r := s.Run(t, reconcile.Options{})
			if r.Err != nil || r.Status != plan.InSync || r.Targets[0].Kept.String() != "[44.210.7.7/32]" {
				t.Fatalf("run after the crash: %s %v, kept %v", r.Status, r.Err, r.Targets[0].Kept)
			}
			if live := k.Live(t, s); !strings.Contains(live, "44.210.7.7/32") {
				t.Fatalf("removed at once, before its grace: %s", live)
			}
			s.Advance(24*time.Hour + time.Minute)
			if r := s.Run(t, reconcile.Options{}); r.Err != nil || r.Status != plan.Applied || r.Targets[0].Remove.String() != "[44.210.7.7/32]" {
				t.Fatalf("after the grace: %s %v, remove %v", r.Status, r.Err, r.Targets[0].Remove)
			}
		})
	}
}
