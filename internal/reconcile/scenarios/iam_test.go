package scenarios_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
)

// kindOf returns the scenario kind of a target type.
func kindOf(t *testing.T, name config.TargetType) reconciletest.Kind {
	for _, k := range reconciletest.Kinds {
		if k.Name == name {
			return k
		}
	}
	t.Fatalf("no kind %s", name)
	return reconciletest.Kind{}
}

// All inline policies of a role share 10,240 characters: another inline
// policy's size counts against the owned one, and a change that would not
// fit is refused before any write.
func TestIAMRoleInlinePoliciesShareTheLimit(t *testing.T) {
	s := reconciletest.NewStack(t, kindOf(t, "iam-role-policy"), "")
	role, _, _ := strings.Cut(s.Resource, "/")
	// Another inline policy of 10,040 characters leaves 200: less than the
	// owned statement's policy needs once it holds Atlas's addresses.
	other := func(pad int) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("P", pad) + `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	}
	pad := 10040 - iamrolepolicy.Limit.Size([]byte(other(0)))
	doc := other(pad)
	if n := iamrolepolicy.Limit.Size([]byte(doc)); n != 10040 {
		t.Fatalf("other policy is %d characters", n)
	}
	if _, err := iam.NewFromConfig(s.RawAWS).PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: &role, PolicyName: strPtr("other"), PolicyDocument: &doc}); err != nil {
		t.Fatal(err)
	}
	r := s.Run(t, reconcile.Options{})
	tp := r.Targets[0]
	if r.Status != plan.Refused || !strings.Contains(tp.Reason, "the role's other inline policies use") || s.Calls.Get("PutRolePolicy") != 0 {
		t.Fatalf("status %s, target %s: %s; %d writes", r.Status, tp.Status, tp.Reason, s.Calls.Get("PutRolePolicy"))
	}

	// With the other policy gone, the same change fits.
	if _, err := iam.NewFromConfig(s.RawAWS).DeleteRolePolicy(context.Background(), &iam.DeleteRolePolicyInput{RoleName: &role, PolicyName: strPtr("other")}); err != nil {
		t.Fatal(err)
	}
	if r := s.Run(t, reconcile.Options{}); r.Targets[0].Status != plan.Applied {
		t.Fatalf("after the other policy went: %+v", r.Targets[0])
	}
}

func strPtr(s string) *string { return &s }
