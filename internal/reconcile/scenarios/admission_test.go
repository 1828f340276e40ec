package scenarios_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// Admission (issue 30), through the loop for every kind on moto and the
// simulators: a poisoned answer is refused before any write and said once;
// a fence an earlier version opened closes at the next admitted answer.

// An allow-all prefix in the control plane's answer, then a private range
// in a cluster's node list: each refuses the run (exit 3's status),
// nothing is written, on-call hears once per transition; a clean answer
// recovers it.
func TestAPoisonedAnswerIsRefusedForEveryKind(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.Applied {
			t.Fatalf("first run: %s %v", r.Status, r.Err)
		}
		s.Alerts(t)
		before, outside := k.Live(t, s), k.OutsideNow(t, s)
		s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "0.0.0.0/0"))
		for i := range 2 {
			r := s.Run(t, reconcile.Options{})
			tp := r.Targets[0]
			if r.Status != plan.Refused || tp.Status != plan.Refused || r.Err != nil ||
				!strings.Contains(tp.Reason, "controlPlane.outbound.aws.us-east-1: 0.0.0.0/0 is broader than guards.widestPrefix (/24)") ||
				len(tp.Refusals) != 1 || tp.Refusals[0].Rule != "broader" {
				t.Fatalf("run %d: %s/%s %v %q %+v", i, r.Status, tp.Status, r.Err, tp.Reason, tp.Refusals)
			}
			if got := k.Live(t, s); got != before {
				t.Fatalf("run %d wrote %s (was %s)", i, got, before)
			}
			want := "refused"
			if i > 0 {
				want = "" // still refused: said once
			}
			if got := reconciletest.Events(s.Alerts(t)); got != want {
				t.Fatalf("run %d alerts %q, want %q", i, got, want)
			}
		}
		s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42"))
		s.Sim.SetProject(reconciletest.Project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10", "10.0.0.0/8"}})
		r := s.Run(t, reconcile.Options{})
		if tp := r.Targets[0]; tp.Status != plan.Refused || !strings.Contains(tp.Reason, "project "+reconciletest.Project+" cluster c0 outbound: 10.0.0.0/8 is a private range") {
			t.Fatalf("node list: %s %q", tp.Status, tp.Reason)
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "" {
			t.Fatalf("alerts %q while it stays refused", got)
		}
		s.Sim.SetProject(reconciletest.Project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.InSync {
			t.Fatalf("clean again: %s %q", r.Status, r.Targets[0].Reason)
		}
		if got := reconciletest.Events(s.Alerts(t)); got != "recovered" {
			t.Fatalf("alerts %q, want recovered", got)
		}
		if got := k.Live(t, s); got != before || !reflect.DeepEqual(k.OutsideNow(t, s), outside) {
			t.Fatalf("the fence moved: %s", got)
		}
	})
}

// An earlier version (without admission) admitted 100.64.0.0/10 from
// Atlas, recorded it, and wrote it. The next run whose answer is admitted
// removes it at once: no removal grace, and maxRemovePercent, which would
// have counted it as 4 million lost addresses, does not refuse.
func TestAFenceAnEarlierVersionOpenedClosesWithoutAPerson(t *testing.T) {
	reconciletest.ForEachKind(t, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.Applied {
			t.Fatalf("first run: %s %v", r.Status, r.Err)
		}
		const open = "100.64.0.0/10"
		opened := append(strings.Fields(reconciletest.Desired3), open)
		k.SetOwnedTo(t, s, opened...)
		store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
		snap, v, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec := snap.Targets["target"]
		rec.Source, rec.Written = ipset.Union(rec.Source, ipset.MustParse(open)), ipset.Union(rec.Written, ipset.MustParse(open))
		snap.Targets["target"] = rec
		if _, err := store.Save(context.Background(), snap, v); err != nil {
			t.Fatal(err)
		}
		if k.Recorded {
			// The earlier version wrote the rule, and tagged the vault so.
			s.AzOthers = slices.DeleteFunc(s.AzOthers, func(o string) bool { return o == open })
			vault := s.Az.Vault(s.Resource)
			vault["tags"].(map[string]any)[azurekeyvault.TagName(k.Sid)] = azurekeyvault.TagValue(rec.Written)
			s.Az.SetVault(vault)
		}
		if got := k.Live(t, s); !strings.Contains(got, open) {
			t.Fatalf("the fence does not hold %s: %s", open, got)
		}
		r := s.Run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied || tp.Remove.String() != "["+open+"]" || !tp.Kept.IsEmpty() ||
			!strings.Contains(tp.Reason, "not a public address: removed at once: "+open+" is a shared-address-space range") || len(tp.RemovedAtOnce) != 1 {
			t.Fatalf("run: %s %v remove %s kept %s %q", tp.Status, r.Err, tp.Remove, tp.Kept, tp.Reason)
		}
		if got := k.Live(t, s); got != reconciletest.Desired3 {
			t.Fatalf("owned part %s, want %s", got, reconciletest.Desired3)
		}
	})
}

// A person's hand edit inside the owned part that admission refuses is
// drift: removed at once, and the plan says why. (A vault's hand-added
// rule is the person's, outside what ipsync owns: not this case.)
func TestAHandEditThatOpensTheFenceIsRemovedAtOnce(t *testing.T) {
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool { return !k.Recorded }, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.Applied {
			t.Fatalf("first run: %s %v", r.Status, r.Err)
		}
		k.SetOwnedTo(t, s, append(strings.Fields(reconciletest.Desired3), "169.254.1.1/32")...)
		r := s.Run(t, reconcile.Options{})
		if tp := r.Targets[0]; tp.Status != plan.Applied || !tp.Drift || tp.Remove.String() != "[169.254.1.1/32]" ||
			!strings.Contains(tp.Reason, "not a public address: removed at once: 169.254.1.1/32 is in 169.254.0.0/16, a link-local range") {
			t.Fatalf("run: %s drift %v remove %s %q", tp.Status, tp.Drift, tp.Remove, tp.Reason)
		}
		if got := k.Live(t, s); got != reconciletest.Desired3 {
			t.Fatalf("owned part %s, want %s", got, reconciletest.Desired3)
		}
	})
}

// The NAT gateways' answer passes admission too: an Elastic IP that is not
// public (moto's default pool is 127.0.0.0/8) refuses the access list,
// naming the source.
func TestANATGatewayOutsidePublicSpaceIsRefused(t *testing.T) {
	w := reconciletest.NewAccessListWorld(t, `"198.51.100.200"`)
	if r := w.Run(); r.Status != plan.Applied {
		t.Fatalf("first run: %s %v %q", r.Status, r.Err, r.Targets[0].Reason)
	}
	before := w.Entries()
	tag := w.Cfg.Targets[0].Sources[0].TagValue
	testenv.CreateNatGatewayAt(t, testenv.SharedMoto(t).AWSConfig(t), tag, "127.0.0.9")
	r := w.Run()
	tp := r.Targets[0]
	if r.Status != plan.Refused || !strings.Contains(tp.Reason, "The NAT gateways' answer holds a prefix admission refuses") ||
		!strings.Contains(tp.Reason, "nat-gateways:Name="+tag+": 127.0.0.9/32 is in 127.0.0.0/8, a loopback range") {
		t.Fatalf("%s %q", r.Status, tp.Reason)
	}
	if got := w.Entries(); got != before {
		t.Fatalf("entries %s, were %s", got, before)
	}
}
