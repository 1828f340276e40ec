package scenarios_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// Three keys in three accounts: the run's own, and two reached through
// roles (one with an external id). Each role is assumed once per run, also
// when it serves an access list's NAT gateways as well as a key.
func TestTargetsInThreeAccounts(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], "")
	roleB, roleC := "arn:aws:iam::222222222222:role/atlas-ip-sync", "arn:aws:iam::333333333333:role/ops/atlas-ip-sync"
	cfgB, cfgC := reconciletest.AsRole(s.RawAWS, roleB, ""), reconciletest.AsRole(s.RawAWS, roleC, "ext-c")
	keyB := testenv.CreateKey(t, cfgB, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	keyC := testenv.CreateKey(t, cfgC, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	// The run's own account cannot see the other accounts' keys.
	_, err := kms.NewFromConfig(s.RawAWS).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &keyB, PolicyName: aws.String("default")})
	var nf *kmstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("account B's key seen from the default account: %v", err)
	}
	s.Cfg = s.Config(t, `  - {name: b, type: kms-key-policy, resource: `+keyB+`, sid: AtlasIPAllowList, sources: [control-plane-outbound, nodes-outbound], roleArn: "`+roleB+`"}
  - {name: c, type: kms-key-policy, resource: `+keyC+`, sid: AtlasIPAllowList, sources: [control-plane-outbound, nodes-outbound], roleArn: "`+roleC+`", externalId: ext-c}
  - {name: egress, type: atlas-access-list, resource: `+reconciletest.Project+`, sid: "atlas-ip-sync:", sources: ["nat-gateways:Name=egress-b"], roleArn: "`+roleB+`"}
`)
	natB := testenv.CreateNatGateway(t, cfgB, "egress-b")
	r := s.Run(t, reconcile.Options{})
	if r.Err != nil || r.Status != plan.Applied || len(r.Targets) != 4 {
		t.Fatalf("run: %s %v %+v", r.Status, r.Err, r.Targets)
	}
	for _, tp := range r.Targets {
		if tp.Status != plan.Applied {
			t.Fatalf("target %s: %s (%s)", tp.Name, tp.Status, tp.Reason)
		}
	}
	for name, got := range map[string]string{"own": reconciletest.KeyValues(t, s.RawAWS, s.Resource), "b": reconciletest.KeyValues(t, cfgB, keyB), "c": reconciletest.KeyValues(t, cfgC, keyC)} {
		if got != reconciletest.Desired3 {
			t.Errorf("key %s holds %s, want %s", name, got, reconciletest.Desired3)
		}
	}
	if got := s.Sim.AccessListOf(reconciletest.Project); len(got) != 1 || got[0].CIDRBlock != natB+"/32" {
		t.Errorf("access list %+v, want account B's NAT gateway %s", got, natB)
	}
	if n := s.Calls.Get("AssumeRole"); n != 2 {
		t.Fatalf("AssumeRole called %d times, want 2 (once per role, cached for the run)", n)
	}
	if r.Targets[1].RoleArn != roleB {
		t.Fatalf("the plan does not say which role reached target b: %+v", r.Targets[1].Target)
	}
}
