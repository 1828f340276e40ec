package reconciletest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The GCP access level in the scenario table: the fence lives in the
// stack's own GCP simulator (checked against Google's discovery document),
// reached with a service-account key kept in Secrets Manager (moto). The
// simulator's calls are counted with the AWS ones, as "gcp:OPERATION".
var AccessLevelKind = Kind{
	Name: gcpaccesslevel.Type, Sid: "atlas-ip-sync", WriteOp: "gcp:" + gcptest.OpPatchLevel,
	ReadOp: "GetSecretValue", AlsoReads: []string{"gcp:" + gcptest.OpToken, "gcp:" + gcptest.OpGetLevel},
	CreateIn: CreateLevel,
	TopKeys: func(s *Stack) string {
		return "gcp:\n  endpoint: " + s.GCP.URL + "\n  credentials: {secretId: " + GcpSecret(s) + "}\n"
	},
	Owned: func(t testing.TB, s *Stack) []string { return LevelCIDRs(s).Strings() },
	GetLive: func(t testing.TB, s *Stack) string {
		l := s.GCP.Level(s.Resource)
		return l["description"].(string) + "\n" + strings.Join(LevelCIDRs(s).Strings(), " ")
	},
	Outside: func(t testing.TB, s *Stack) any {
		l := s.GCP.Level(s.Resource)
		return [2]any{l["title"], l["description"]}
	},
	SetOwned:     func(t testing.TB, s *Stack, values ...string) { SetLevel(s, "", values) },
	NotOwned:     func(t testing.TB, s *Stack) { SetLevel(s, "the network team's level", LevelCIDRs(s).Strings()) },
	NotOwnedWant: []string{`description "the network team's level" does not start with "atlas-ip-sync"`},
	TooMany:      8001, OversizeWant: "would hold 8002 entries; the limit is 8000",
}

func GcpSecret(s *Stack) string { return "ipsync/gcp-" + s.Bucket }

// CreateLevel starts the stack's GCP simulator, stores its service-account
// key in Secrets Manager and makes a level ipsync owns holding values.
func CreateLevel(t testing.TB, s *Stack, values ...string) string {
	t.Helper()
	g, err := gcptest.New(filepath.Join(testenv.Testdata(t), "gcp", "accesscontextmanager-v1-discovery.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.OnCall = func(op string) { s.Calls.Add("gcp:" + op) }
	if _, err := g.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p := g.Problems(); len(p) > 0 {
			t.Errorf("GCP requests or answers off the discovery document: %v", p)
		}
		g.Close()
	})
	s.GCP = g
	s.Bucket = Uniq("ipsync") // the secret's name needs it before newStack sets it
	_, err = secretsmanager.NewFromConfig(s.RawAWS).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(GcpSecret(s)), SecretString: aws.String(string(g.ServiceAccountJSON()))})
	var exists *smtypes.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	name := "accessPolicies/123456789/accessLevels/" + strings.NewReplacer("-", "_").Replace("l_"+s.Bucket)
	g.SetLevel(gcptest.Level{"name": name, "title": "Atlas", "description": "atlas-ip-sync: Atlas's addresses",
		"basic": map[string]any{"combiningFunction": "OR", "conditions": []any{map[string]any{"ipSubnetworks": AnyList(values)}}}})
	return name
}

func AnyList(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func LevelCIDRs(s *Stack) ipset.Set {
	l := s.GCP.Level(s.Resource)
	var cidrs []string
	for _, c := range l["basic"].(map[string]any)["conditions"].([]any) {
		for _, ip := range c.(map[string]any)["ipSubnetworks"].([]any) {
			cidrs = append(cidrs, ip.(string))
		}
	}
	return ipset.MustParse(cidrs...)
}

// SetLevel is a human changing the level: its addresses, and its
// description unless desc is "".
func SetLevel(s *Stack, desc string, cidrs []string) {
	l := s.GCP.Level(s.Resource)
	if desc != "" {
		l["description"] = desc
	}
	l["basic"] = map[string]any{"combiningFunction": "OR", "conditions": []any{map[string]any{"ipSubnetworks": AnyList(cidrs)}}}
	s.GCP.SetLevel(l)
}
