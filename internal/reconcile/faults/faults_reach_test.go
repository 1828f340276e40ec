package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot/location"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// Faults on the calls that reach beyond the run's own account and policies:
// STS AssumeRole for a target in another account, the NAT gateway read that
// feeds an access list, and the access list's POST and DELETE. Rows join
// docs/RELIABILITY.md.

// TestAssumeRoleFaults: a target reached through a role, next to one in
// the run's own account. When the role cannot be assumed, that target is
// not written and keeps its record; the other target is applied.
func TestAssumeRoleFaults(t *testing.T) {
	rows := []struct {
		name    string
		fault   testenv.AWSFault
		outcome string
	}{
		{"sts AssumeRole 400 Throttling", testenv.AWSFault{Service: "sts", Op: "AssumeRole", Status: 400, Code: "Throttling", Times: 1}, retried},
		{"sts AssumeRole 403 AccessDenied", testenv.AWSFault{Service: "sts", Op: "AssumeRole", Status: 403, Code: "AccessDenied", Times: 100}, failedTarget},
		{"sts AssumeRole timeout", testenv.AWSFault{Service: "sts", Op: "AssumeRole", Delay: time.Minute, Times: 100}, failedTarget},
	}
	const roleB = "arn:aws:iam::222222222222:role/atlas-ip-sync"
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			s, proxy := reconciletest.FaultStack(t, reconciletest.Kinds[0], "")
			cfgB := reconciletest.AsRole(s.RawAWS, roleB, "")
			keyB := testenv.CreateKey(t, cfgB, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
			s.Cfg = s.Config(t, `  - {name: b, type: kms-key-policy, resource: `+keyB+`, sid: AtlasIPAllowList, sources: [control-plane-outbound, nodes-outbound], roleArn: "`+roleB+`"}
`)
			o := reconcile.Options{VerifyWait: 10 * time.Millisecond, CallTimeout: time.Second}
			store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
			proxy.Inject(row.fault)
			r := s.Run(t, o)
			runs, unexpected := 1, 0
			switch row.outcome {
			case retried:
				if r.Err != nil || r.Status != plan.Applied || reconciletest.KeyValues(t, cfgB, keyB) != reconciletest.Desired3 {
					t.Fatalf("status %s, err %v, targets %+v", r.Status, r.Err, reasons(r))
				}
				if n := proxy.Requests("sts", "AssumeRole"); n < 2 {
					t.Fatalf("AssumeRole reached the proxy %d time(s): no retry happened", n)
				}
			case failedTarget:
				if r.Status != plan.Error || len(r.Targets) != 2 {
					t.Fatalf("status %s, want error; targets %+v", r.Status, reasons(r))
				}
				if r.Targets[0].Status != plan.Applied || reconciletest.KeyValues(t, s.RawAWS, s.Resource) != reconciletest.Desired3 {
					t.Errorf("the target in the run's own account was not applied: %+v", reasons(r))
				}
				if got := reconciletest.KeyValues(t, cfgB, keyB); got != "192.0.2.0/32" {
					unexpected++
					t.Errorf("account B's key changed on a run that could not assume the role: %s", got)
				}
				if !strings.Contains(r.Targets[1].Reason, roleB) {
					t.Errorf("the failure does not name the role: %q", r.Targets[1].Reason)
				}
				if snap, _, err := store.Load(context.Background()); err == nil && !snap.Targets["b"].Written.IsEmpty() {
					unexpected++
					t.Errorf("target b's record advanced on a failed run")
				}
			}
			proxy.Clear()
			if next := s.Run(t, o); next.Err != nil {
				t.Fatalf("the next run: %s %v %+v", next.Status, next.Err, reasons(next))
			}
			runs++
			if dry := s.Run(t, reconcile.Options{DryRun: true}); dry.Status != plan.InSync || reconciletest.KeyValues(t, cfgB, keyB) != reconciletest.Desired3 {
				t.Fatalf("not converged: %s", dry.Status)
			}
			record(matrixRow{Target: "kms-key-policy in another account", Fault: row.name, Outcome: row.outcome, Runs: runs + 1, UnexpectedWrites: unexpected})
		})
	}
}

const addedNotRemoved = "partial: the new entries added, the old one kept (never less access than before); the run reports failure and the next run removes it"

// TestAccessListFaults: faults on the NAT gateway read (EC2, through the
// fault proxy) and on the access list's POST and DELETE (the simulator).
func TestAccessListFaults(t *testing.T) {
	rows := []struct {
		name    string
		inject  func(w *reconciletest.AccessListWorld, proxy *testenv.FaultProxy)
		outcome string
	}{
		{"ec2 DescribeNatGateways 503 RequestLimitExceeded", func(_ *reconciletest.AccessListWorld, p *testenv.FaultProxy) {
			p.Inject(testenv.AWSFault{Service: "ec2", Op: "DescribeNatGateways", Status: 503, Code: "RequestLimitExceeded", Times: 1})
		}, retried},
		{"ec2 DescribeNatGateways 500 InternalError", func(_ *reconciletest.AccessListWorld, p *testenv.FaultProxy) {
			p.Inject(testenv.AWSFault{Service: "ec2", Op: "DescribeNatGateways", Status: 500, Code: "InternalError", Times: 100})
		}, failedTarget},
		{"atlas accessList POST 503", func(w *reconciletest.AccessListWorld, _ *testenv.FaultProxy) {
			w.Sim.InjectFault(atlastest.AccessListAdd, atlastest.Fault{Status: 503}, 1)
		}, retried},
		{"atlas accessList POST 500 until the retry budget ends", func(w *reconciletest.AccessListWorld, _ *testenv.FaultProxy) {
			w.Sim.InjectFault(atlastest.AccessListAdd, atlastest.Fault{Status: 500}, 100)
		}, failedTarget},
		{"atlas accessList DELETE 503", func(w *reconciletest.AccessListWorld, _ *testenv.FaultProxy) {
			w.Sim.InjectFault(atlastest.AccessListDelete, atlastest.Fault{Status: 503}, 1)
		}, retried},
		{"atlas accessList DELETE 500 until the retry budget ends", func(w *reconciletest.AccessListWorld, _ *testenv.FaultProxy) {
			w.Sim.InjectFault(atlastest.AccessListDelete, atlastest.Fault{Status: 500}, 100)
		}, addedNotRemoved},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			proxy, awsCfg := reconciletest.StartProxy(t)
			w := reconciletest.NewAccessListWorldWith(t, `"198.51.100.7/32"`, awsCfg)
			loc, err := location.Parse(w.Cfg.Snapshot.URL)
			if err != nil {
				t.Fatal(err)
			}
			store := snapshotstore.NewFileStore(loc.Path)
			// A first run records the target; then the list drifts: one
			// managed entry to delete and two to add, beside someone else's.
			if r := w.Run(); r.Err != nil {
				t.Fatal(r.Err)
			}
			recorded, _, _ := store.Load(context.Background())
			w.Sim.SetAccessList(reconciletest.Project,
				atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"},
				atlastest.AccessEntry{CIDRBlock: "192.0.2.50/32", Comment: "atlas-ip-sync (old egress)"})
			before := w.Entries()
			row.inject(w, proxy)
			r := w.Run()
			runs, unexpected := 1, 0
			switch row.outcome {
			case retried:
				if r.Err != nil || r.Targets[0].Status != plan.Applied {
					t.Fatalf("run: %v %+v", r.Err, reasons(r))
				}
			case failedTarget, addedNotRemoved:
				if r.Status != plan.Error {
					t.Fatalf("status %s, want error (%v)", r.Status, r.Err)
				}
				after := w.Entries()
				if row.outcome == failedTarget && after != before {
					unexpected++
					t.Errorf("the access list changed on a failed run: %s", after)
				}
				if snap, _, err := store.Load(context.Background()); err != nil || !snap.Targets["access-list"].Written.Equal(recorded.Targets["access-list"].Written) {
					unexpected++
					t.Errorf("the target's record advanced on a failed run (%v)", err)
				}
				// Entries are added before old ones go: a failed DELETE leaves
				// more access than wanted, never less.
				if row.outcome == addedNotRemoved && (!strings.Contains(after, "198.51.100.7/32=atlas-ip-sync") || !strings.Contains(after, "192.0.2.50/32")) {
					t.Errorf("want the new entries added and the old one kept: %s", after)
				}
				if !strings.Contains(after, "203.0.113.9/32=office") {
					unexpected++
					t.Errorf("someone else's entry is gone: %s", after)
				}
			}
			w.Sim.ClearFaults()
			proxy.Clear()
			if next := w.Run(); next.Err != nil || next.Targets[0].Status == plan.Error {
				t.Fatalf("the next run: %v %+v", next.Err, reasons(next))
			}
			runs++
			got := w.Entries()
			for _, want := range []string{"198.51.100.7/32=atlas-ip-sync", w.NATIP + "/32=atlas-ip-sync", "203.0.113.9/32=office"} {
				if !strings.Contains(got, want) {
					t.Fatalf("not converged: %s lacks %s", got, want)
				}
			}
			if strings.Contains(got, "192.0.2.50") {
				t.Fatalf("not converged: the old managed entry is still there: %s", got)
			}
			if dry := w.Run(); dry.Status != plan.InSync {
				t.Fatalf("a third run is not in sync: %s", dry.Status)
			}
			record(matrixRow{Target: "atlas-access-list", Fault: row.name, Outcome: row.outcome, Runs: runs + 1, UnexpectedWrites: unexpected})
		})
	}
}
