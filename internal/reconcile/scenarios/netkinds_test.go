package scenarios_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The network kinds in the scenario table. Their fence is no document: each
// reads its owned part and the rest through the service, and a human's edit
// of the owned part is made through it too. Each starts with parts of
// another owner, which no scenario may see changed.

// A rule or entry of another owner that allows an address ipsync wants is
// left as it is, and ipsync adds nothing for that address until it goes;
// a list or set of one address family leaves the other family out, and
// says so. A security group carries both, each in its own range list, and
// an access level both in its conditions.
func TestNetworkKindsLeaveOthersAndOtherFamiliesAlone(t *testing.T) {
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool { return k.SetOwned != nil }, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		s.Sim.SetProject(reconciletest.Project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10", "2001:db8::10"}})
		// An IP set or access level is ipsync's whole: nobody else's part.
		owner := k.Name == securitygroup.Type || k.Name == prefixlist.Type || k.Name == azurekeyvault.Type
		if owner {
			reconciletest.AddForeign(t, s, "3.92.113.229/32")
		}
		r := s.Run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied {
			t.Fatalf("run: %s %v %q", tp.Status, r.Err, tp.Reason)
		}
		want := "3.92.113.229/32 3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"
		if owner {
			want = "3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"
			if !strings.Contains(tp.Reason, "already allowed by "+k.OtherWords()+" with the same prefix, so ipsync adds nothing for: [3.92.113.229/32]") {
				t.Errorf("reason %q does not say the address is already allowed", tp.Reason)
			}
		}
		if k.Name == securitygroup.Type || k.Name == gcpaccesslevel.Type {
			want += " 2001:db8::10/128"
		} else if !strings.Contains(tp.Reason, "left out, the fence cannot carry their address family: [2001:db8::10/128]") {
			t.Errorf("reason %q does not say the IPv6 address was left out", tp.Reason)
		}
		if got := k.Live(t, s); got != want {
			t.Fatalf("owned part %s, want %s", got, want)
		}
		if mark := map[bool]string{true: "", false: " db team"}[k.Recorded]; owner && !strings.Contains(k.GetLive(t, s), "3.92.113.229/32"+mark) {
			t.Fatalf("the other owner's part changed:\n%s", k.GetLive(t, s))
		}
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.InSync {
			t.Fatalf("second run: %s %q", r.Status, r.Targets[0].Reason)
		}
		if !owner {
			return
		}
		// The other owner's part goes: ipsync's own rule or entry takes over.
		reconciletest.RemoveForeign(t, s, "3.92.113.229/32")
		if r := s.Run(t, reconcile.Options{}); r.Targets[0].Status != plan.Applied || r.Targets[0].Add.String() != "[3.92.113.229/32]" {
			t.Fatalf("after the other rule went: %s %v", r.Targets[0].Status, r.Targets[0].Add)
		}
	})
}

// A broader rule or entry of another owner — a group's default allow-all
// egress rule, a list's /16 — counts for nothing: ipsync writes its own
// for every address, so the day the security team removes the broad one,
// Atlas's traffic goes on (issue 30). The other owner's part is untouched.
func TestABroaderRuleOfAnotherOwnerCountsForNothing(t *testing.T) {
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool {
		return k.Name == securitygroup.Type || k.Name == prefixlist.Type || k.Name == azurekeyvault.Type
	}, func(t *testing.T, k reconciletest.Kind) {
		s := reconciletest.NewStack(t, k, "")
		broad := "3.92.0.0/16"
		if k.Name == securitygroup.Type {
			broad = "0.0.0.0/0"
			testenv.AddRule(t, s.RawAWS, s.Resource, true, "-1", 0, 0, broad, "default egress")
		} else {
			reconciletest.AddForeign(t, s, broad)
		}
		r := s.Run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied || strings.Contains(tp.Reason, "already allowed") {
			t.Fatalf("run: %s %v %q", tp.Status, r.Err, tp.Reason)
		}
		if got, want := k.Live(t, s), "3.92.113.229/32 3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"; got != want {
			t.Fatalf("owned part %s, want %s", got, want)
		}
		if !strings.Contains(k.GetLive(t, s), broad) {
			t.Fatalf("the other owner's %s is gone:\n%s", broad, k.GetLive(t, s))
		}
		if k.Name == securitygroup.Type {
			perm := ec2types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: &broad}}}
			if _, err := ec2.NewFromConfig(s.RawAWS).RevokeSecurityGroupEgress(context.Background(), &ec2.RevokeSecurityGroupEgressInput{GroupId: &s.Resource, IpPermissions: []ec2types.IpPermission{perm}}); err != nil {
				t.Fatal(err)
			}
		} else {
			reconciletest.RemoveForeign(t, s, broad)
		}
		if r := s.Run(t, reconcile.Options{}); r.Status != plan.InSync {
			t.Fatalf("after the broad part went: %s %q", r.Status, r.Targets[0].Reason)
		}
	})
}
