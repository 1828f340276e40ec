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

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy/iamio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy/kmsio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy/vpceio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type adapter interface {
	Read(ctx context.Context, ref target.Ref) (target.Fence, error)
	Write(ctx context.Context, ref target.Ref, c target.Change) error
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
		{"kms-key-policy", kmsio.New(kms.NewFromConfig(cfg)), testenv.CreateKey(t, cfg, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32")), "PutKeyPolicy", "AtlasIPAllowList"},
		{"vpc-endpoint-policy", vpceio.New(ec2.NewFromConfig(cfg)), testenv.CreateEndpoint(t, cfg, testenv.EndpointPolicy("AtlasNodes", "192.0.2.0/32")), "ModifyVpcEndpoint", "AtlasNodes"},
		{"iam-role-policy", iamio.New(iam.NewFromConfig(cfg)), testenv.CreateRolePolicy(t, cfg, testenv.RolePolicy("AtlasIPAllowList", "192.0.2.0/32")), "PutRolePolicy", "AtlasIPAllowList"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls.Reset()
			ref := target.Ref{Resource: tc.resource, Sid: tc.sid}
			fence, err := tc.a.Read(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := fence.Owned().Strings(); !slices.Equal(got, []string{"192.0.2.0/32"}) {
				t.Fatalf("owned %v", got)
			}
			next, err := fence.Rewrite(ipset.MustParse("3.92.113.229/32"), fence.Capacity())
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.a.Write(ctx, ref, next); err != nil {
				t.Fatal(err)
			}
			back, err := tc.a.Read(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := back.Owned().Strings(); !slices.Equal(got, []string{"3.92.113.229/32"}) || back.Used() != next.Size {
				t.Fatalf("after write: %v, size %d (planned %d)", got, back.Used(), next.Size)
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
	k := kmsio.New(kms.NewFromConfig(cfg))
	_, err := k.Read(ctx, target.Ref{Resource: "1234abcd-12ab-34cd-56ef-1234567890ab", Sid: "S"})
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing key: %v", err)
	}
	v := vpceio.New(ec2.NewFromConfig(cfg))
	if _, err := v.Read(ctx, target.Ref{Resource: "vpce-0123456789abcdef0", Sid: "S"}); !errors.As(err, &te) {
		t.Fatalf("missing endpoint: %v", err)
	}
	r := iamio.New(iam.NewFromConfig(cfg))
	if _, err := r.Read(ctx, target.Ref{Resource: "no-such-role/atlas-ip-allow", Sid: "S"}); !errors.As(err, &te) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing role: %v", err)
	}
	if _, err := r.Read(ctx, target.Ref{Resource: "just-a-role", Sid: "S"}); err == nil || !strings.Contains(err.Error(), "ROLE_NAME/POLICY_NAME") {
		t.Fatalf("bad resource: %v", err)
	}
}

// The room the role's other inline policies leave, their size counted as
// IAM counts it, white space left out.
func TestIAMRoom(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	ctx := context.Background()
	resource := testenv.CreateRolePolicy(t, cfg, testenv.RolePolicy("AtlasIPAllowList", "192.0.2.0/32"))
	role, _, _ := strings.Cut(resource, "/")
	r := iamio.New(iam.NewFromConfig(cfg))
	ref := target.Ref{Resource: resource, Sid: "AtlasIPAllowList"}
	if c, err := r.Room(ctx, ref); err != nil || c.Max != iamrolepolicy.Limit.Max {
		t.Fatalf("no other policy: %+v %v", c, err)
	}
	other := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]\n}"
	for _, name := range []string{"a", "b"} {
		if _, err := iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &other}); err != nil {
			t.Fatal(err)
		}
	}
	want := 2 * iamrolepolicy.Limit.Size([]byte(other))
	c, err := r.Room(ctx, ref)
	if err != nil || c.Max != iamrolepolicy.Limit.Max-want || want >= 2*len(other) || !strings.Contains(c.Name, "other inline policies use") {
		t.Fatalf("two other policies: %+v (want %d of %d characters used) %v", c, want, 2*len(other), err)
	}
}
