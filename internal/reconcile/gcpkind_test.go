package reconcile_test

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
var accessLevelKind = kind{
	name: gcpaccesslevel.Type, sid: "atlas-ip-sync", writeOp: "gcp:" + gcptest.OpPatchLevel,
	readOp: "GetSecretValue", alsoReads: []string{"gcp:" + gcptest.OpToken, "gcp:" + gcptest.OpGetLevel},
	createIn: createLevel,
	topKeys: func(s *stack) string {
		return "gcp:\n  endpoint: " + s.gcp.URL + "\n  credentials: {secretId: " + gcpSecret(s) + "}\n"
	},
	owned: func(t testing.TB, s *stack) []string { return levelCIDRs(s).Strings() },
	getLive: func(t testing.TB, s *stack) string {
		l := s.gcp.Level(s.resource)
		return l["description"].(string) + "\n" + strings.Join(levelCIDRs(s).Strings(), " ")
	},
	outside: func(t testing.TB, s *stack) any {
		l := s.gcp.Level(s.resource)
		return [2]any{l["title"], l["description"]}
	},
	setOwned:     func(t testing.TB, s *stack, values ...string) { setLevel(s, "", values) },
	notOwned:     func(t testing.TB, s *stack) { setLevel(s, "the network team's level", levelCIDRs(s).Strings()) },
	notOwnedWant: []string{`description "the network team's level" does not start with "atlas-ip-sync"`},
	tooMany:      8001, oversizeWant: "would hold 8002 entries; the limit is 8000",
}

func gcpSecret(s *stack) string { return "ipsync/gcp-" + s.bucket }

// createLevel starts the stack's GCP simulator, stores its service-account
// key in Secrets Manager and makes a level ipsync owns holding values.
func createLevel(t testing.TB, s *stack, values ...string) string {
	t.Helper()
	g, err := gcptest.New(filepath.Join(testenv.Testdata(t), "gcp", "accesscontextmanager-v1-discovery.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.OnCall = func(op string) { s.calls.Add("gcp:" + op) }
	if _, err := g.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p := g.Problems(); len(p) > 0 {
			t.Errorf("GCP requests or answers off the discovery document: %v", p)
		}
		g.Close()
	})
	s.gcp = g
	s.bucket = uniq("ipsync") // the secret's name needs it before newStack sets it
	_, err = secretsmanager.NewFromConfig(s.rawAWS).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(gcpSecret(s)), SecretString: aws.String(string(g.ServiceAccountJSON()))})
	var exists *smtypes.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	name := "accessPolicies/123456789/accessLevels/" + strings.NewReplacer("-", "_").Replace("l_"+s.bucket)
	g.SetLevel(gcptest.Level{"name": name, "title": "Atlas", "description": "atlas-ip-sync: Atlas's addresses",
		"basic": map[string]any{"combiningFunction": "OR", "conditions": []any{map[string]any{"ipSubnetworks": anyList(values)}}}})
	return name
}

func anyList(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func levelCIDRs(s *stack) ipset.Set {
	l := s.gcp.Level(s.resource)
	var cidrs []string
	for _, c := range l["basic"].(map[string]any)["conditions"].([]any) {
		for _, ip := range c.(map[string]any)["ipSubnetworks"].([]any) {
			cidrs = append(cidrs, ip.(string))
		}
	}
	return ipset.MustParse(cidrs...)
}

// setLevel is a human changing the level: its addresses, and its
// description unless desc is "".
func setLevel(s *stack, desc string, cidrs []string) {
	l := s.gcp.Level(s.resource)
	if desc != "" {
		l["description"] = desc
	}
	l["basic"] = map[string]any{"combiningFunction": "OR", "conditions": []any{map[string]any{"ipSubnetworks": anyList(cidrs)}}}
	s.gcp.SetLevel(l)
}
