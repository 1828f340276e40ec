package reconcile_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// asRole is cfg acting in another account (moto keeps accounts apart by
// the assumed role's credentials).
func asRole(cfg aws.Config, roleArn, externalID string) aws.Config {
	c := cfg.Copy()
	c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleArn, func(o *stscreds.AssumeRoleOptions) {
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	}))
	return c
}

func keyValues(t *testing.T, cfg aws.Config, key string) string {
	t.Helper()
	out, err := kms.NewFromConfig(cfg).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatalf("read key %s: %v", key, err)
	}
	return strings.Join(ownedValues(t, aws.ToString(out.Policy), "AtlasIPAllowList"), " ")
}

// Three keys in three accounts: the run's own, and two reached through
// roles (one with an external id). Each role is assumed once per run, also
// when it serves an access list's NAT gateways as well as a key.
func TestTargetsInThreeAccounts(t *testing.T) {
	s := newStack(t, kinds[0], "")
	roleB, roleC := "arn:aws:iam::222222222222:role/atlas-ip-sync", "arn:aws:iam::333333333333:role/ops/atlas-ip-sync"
	cfgB, cfgC := asRole(s.rawAWS, roleB, ""), asRole(s.rawAWS, roleC, "ext-c")
	keyB := testenv.CreateKey(t, cfgB, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	keyC := testenv.CreateKey(t, cfgC, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	// The run's own account cannot see the other accounts' keys.
	_, err := kms.NewFromConfig(s.rawAWS).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &keyB, PolicyName: aws.String("default")})
	var nf *kmstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("account B's key seen from the default account: %v", err)
	}
	s.cfg = s.config(t, `  - {name: b, type: kms-key-policy, resource: `+keyB+`, sid: AtlasIPAllowList, sources: [control-plane-outbound, nodes-outbound], roleArn: "`+roleB+`"}
  - {name: c, type: kms-key-policy, resource: `+keyC+`, sid: AtlasIPAllowList, sources: [control-plane-outbound, nodes-outbound], roleArn: "`+roleC+`", externalId: ext-c}
  - {name: egress, type: atlas-access-list, resource: `+project+`, sid: "atlas-ip-sync:", sources: ["nat-gateways:Name=egress-b"], roleArn: "`+roleB+`"}
`)
	natB := testenv.CreateNatGateway(t, cfgB, "egress-b")
	r := s.run(t, reconcile.Options{})
	if r.Err != nil || r.Status != plan.Applied || len(r.Targets) != 4 {
		t.Fatalf("run: %s %v %+v", r.Status, r.Err, r.Targets)
	}
	for _, tp := range r.Targets {
		if tp.Status != plan.Applied {
			t.Fatalf("target %s: %s (%s)", tp.Name, tp.Status, tp.Reason)
		}
	}
	for name, got := range map[string]string{"own": keyValues(t, s.rawAWS, s.resource), "b": keyValues(t, cfgB, keyB), "c": keyValues(t, cfgC, keyC)} {
		if got != desired3 {
			t.Errorf("key %s holds %s, want %s", name, got, desired3)
		}
	}
	if got := s.sim.AccessListOf(project); len(got) != 1 || got[0].CIDRBlock != natB+"/32" {
		t.Errorf("access list %+v, want account B's NAT gateway %s", got, natB)
	}
	if n := s.calls.Get("AssumeRole"); n != 2 {
		t.Fatalf("AssumeRole called %d times, want 2 (once per role, cached for the run)", n)
	}
	if r.Targets[1].RoleArn != roleB {
		t.Fatalf("the plan does not say which role reached target b: %+v", r.Targets[1].Target)
	}
}
