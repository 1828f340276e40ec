package target_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type adapter interface {
	Read(ctx context.Context, id string) ([]byte, error)
	Write(ctx context.Context, id string, doc []byte) error
}

func TestAdaptersAgainstMoto(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	calls := testenv.CountCalls(&cfg)
	ctx := context.Background()
	cases := []struct {
		name     string
		a        adapter
		resource string
		writeOp  string
		sid      string
	}{
		{"kms-key-policy", kmspolicy.New(kms.NewFromConfig(cfg)), testenv.CreateKey(t, cfg, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32")), "PutKeyPolicy", "AtlasIPAllowList"},
		{"vpc-endpoint-policy", vpcepolicy.New(ec2.NewFromConfig(cfg)), testenv.CreateEndpoint(t, cfg, testenv.EndpointPolicy("AtlasNodes", "192.0.2.0/32")), "ModifyVpcEndpoint", "AtlasNodes"},
		{"iam-role-policy", iamrolepolicy.New(iam.NewFromConfig(cfg)), testenv.CreateRolePolicy(t, cfg, testenv.RolePolicy("AtlasIPAllowList", "192.0.2.0/32")), "PutRolePolicy", "AtlasIPAllowList"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls.Reset()
			doc, err := tc.a.Read(ctx, tc.resource)
			if err != nil {
				t.Fatal(err)
			}
			c, err := policy.Read(doc, tc.sid)
			if err != nil || !slices.Equal(c.Values, []string{"192.0.2.0/32"}) {
				t.Fatalf("owned condition %+v %v", c, err)
			}
			next, err := policy.Rewrite(doc, tc.sid, []string{"3.92.113.229/32"})
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.a.Write(ctx, tc.resource, next); err != nil {
				t.Fatal(err)
			}
			back, err := tc.a.Read(ctx, tc.resource)
			if err != nil {
				t.Fatal(err)
			}
			c, err = policy.Read(back, tc.sid)
			if err != nil || !slices.Equal(c.Values, []string{"3.92.113.229/32"}) {
				t.Fatalf("after write: %+v %v", c, err)
			}
			if n := calls.Get(tc.writeOp); n != 1 {
				t.Fatalf("%s calls = %d, want 1", tc.writeOp, n)
			}
		})
	}
}

func TestAdapterErrors(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	ctx := context.Background()
	k := kmspolicy.New(kms.NewFromConfig(cfg))
	_, err := k.Read(ctx, "1234abcd-12ab-34cd-56ef-1234567890ab")
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing key: %v", err)
	}
	v := vpcepolicy.New(ec2.NewFromConfig(cfg))
	if _, err := v.Read(ctx, "vpce-0123456789abcdef0"); !errors.As(err, &te) {
		t.Fatalf("missing endpoint: %v", err)
	}
	r := iamrolepolicy.New(iam.NewFromConfig(cfg))
	if _, err := r.Read(ctx, "no-such-role/atlas-ip-allow"); !errors.As(err, &te) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing role: %v", err)
	}
	if _, err := r.Read(ctx, "just-a-role"); err == nil || !strings.Contains(err.Error(), "ROLE_NAME/POLICY_NAME") {
		t.Fatalf("bad resource: %v", err)
	}
}

// The size IAM counts for the other inline policies of the role, white
// space left out.
func TestIAMOthersSize(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	ctx := context.Background()
	resource := testenv.CreateRolePolicy(t, cfg, testenv.RolePolicy("AtlasIPAllowList", "192.0.2.0/32"))
	role, _, _ := strings.Cut(resource, "/")
	r := iamrolepolicy.New(iam.NewFromConfig(cfg))
	if n, err := r.OthersSize(ctx, resource); err != nil || n != 0 {
		t.Fatalf("no other policy: %d %v", n, err)
	}
	other := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]\n}"
	for _, name := range []string{"a", "b"} {
		if _, err := iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &other}); err != nil {
			t.Fatal(err)
		}
	}
	want := 2 * policy.IAMRolePolicies.Size([]byte(other))
	if n, err := r.OthersSize(ctx, resource); err != nil || n != want || want >= 2*len(other) {
		t.Fatalf("two other policies: %d (want %d of %d characters) %v", n, want, 2*len(other), err)
	}
}
