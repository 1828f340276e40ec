package faults_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
)

// cloudFault is a fault of the Azure or GCP simulator, as the run meets
// it: fails says the run's target ends in error (nothing recorded), else
// the adapter rides it out and the change is applied.
type cloudFault struct {
	name   string
	inject func(s *reconciletest.Stack)
	fails  string // what the target's reason says; "" when it is applied
}

// The other clouds' faults at the loop's level, against their simulators:
// a refused token, a refused read, a refused or failed write each fail the
// target with the service's words, write no record and alert once; a
// busy answer is waited out within the run. After each, a clean run
// applies the change.
func TestOtherCloudFaults(t *testing.T) {
	tables := map[string][]cloudFault{
		string(reconciletest.VaultKind.Name): {
			{"token refused", func(s *reconciletest.Stack) {
				s.Az.Inject(azuretest.Fault{Op: azuretest.OpToken, Status: 400, Times: 100})
			}, "oauth2"},
			{"read forbidden", func(s *reconciletest.Stack) {
				s.Az.Inject(azuretest.Fault{Op: azuretest.OpGetVault, Status: 403, Times: 100})
			}, "AuthorizationFailed"},
			{"write forbidden", func(s *reconciletest.Stack) {
				s.Az.Inject(azuretest.Fault{Op: azuretest.OpPatchVault, Status: 403, Times: 100})
			}, "Key Vault Contributor"},
			{"write refused as bad", func(s *reconciletest.Stack) {
				s.Az.Inject(azuretest.Fault{Op: azuretest.OpPatchVault, Status: 400, Code: "BadRequest", Times: 100})
			}, "400 BadRequest"},
			{"conflict, then through", func(s *reconciletest.Stack) {
				s.Az.Inject(azuretest.Fault{Op: azuretest.OpPatchVault, Status: 409, RetryAfter: "1", Times: 1})
			}, ""},
		},
		string(reconciletest.AccessLevelKind.Name): {
			{"token refused", func(s *reconciletest.Stack) {
				s.GCP.Inject(gcptest.Fault{Op: gcptest.OpToken, Status: 400, Times: 100})
			}, "oauth2"},
			{"read forbidden", func(s *reconciletest.Stack) {
				s.GCP.Inject(gcptest.Fault{Op: gcptest.OpGetLevel, Status: 403, Times: 100})
			}, "PERMISSION_DENIED"},
			{"write forbidden", func(s *reconciletest.Stack) {
				s.GCP.Inject(gcptest.Fault{Op: gcptest.OpPatchLevel, Status: 403, Times: 100})
			}, "Access Context Manager Editor"},
			{"quota, then through", func(s *reconciletest.Stack) {
				s.GCP.Inject(gcptest.Fault{Op: gcptest.OpPatchLevel, Status: 429, RetryAfter: "1", Times: 1})
			}, ""},
		},
	}
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool { return tables[string(k.Name)] != nil }, func(t *testing.T, k reconciletest.Kind) {
		for _, f := range tables[string(k.Name)] {
			t.Run(f.name, func(t *testing.T) {
				t.Parallel()
				s := reconciletest.NewStack(t, k, "")
				if r := s.Run(t, reconcile.Options{}); r.Err != nil || r.Targets[0].Status != plan.Applied {
					t.Fatalf("first run: %+v %v", r.Targets, r.Err)
				}
				s.Alerts(t)
				before, _, err := s.Store().Load(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"))
				f.inject(s)
				r := s.Run(t, reconcile.Options{})
				tp := r.Targets[0]
				if f.fails == "" {
					if r.Err != nil || tp.Status != plan.Applied || !strings.Contains(k.Live(t, s), "44.210.7.7/32") {
						t.Fatalf("a fault the adapter rides out: %s %q %v", tp.Status, tp.Reason, r.Err)
					}
					return
				}
				if tp.Status != plan.Error || !strings.Contains(tp.Reason, f.fails) {
					t.Fatalf("status %s, reason %q; want an error saying %q", tp.Status, tp.Reason, f.fails)
				}
				if strings.Contains(k.Live(t, s), "44.210.7.7") {
					t.Fatal("the change is in the fence, though the run failed")
				}
				after, _, err := s.Store().Load(context.Background())
				if err != nil || !after.Targets["target"].Written.Equal(before.Targets["target"].Written) {
					t.Fatalf("the failed target's record changed: %v -> %v (%v)", before.Targets["target"].Written, after.Targets["target"].Written, err)
				}
				if got := reconciletest.Events(s.Alerts(t)); got != "failed" {
					t.Fatalf("alerts %q, want failed", got)
				}
				// The fault clears: the next run applies the change.
				clearFaults(s)
				if r := s.Run(t, reconcile.Options{}); r.Err != nil || r.Targets[0].Status != plan.Applied || !strings.Contains(k.Live(t, s), "44.210.7.7/32") {
					t.Fatalf("after the fault: %+v %v", r.Targets, r.Err)
				}
			})
		}
	})
}

// clearFaults uses up what is left of the simulators' faults.
func clearFaults(s *reconciletest.Stack) {
	if s.Az != nil {
		s.Az.ClearFaults()
	}
	if s.GCP != nil {
		s.GCP.ClearFaults()
	}
}
