package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The Azure Key Vault firewall in the scenario table: the vault lives in
// the stack's own Azure simulator (checked against the Key Vault Swagger),
// reached with a client secret kept in Secrets Manager (moto). Its calls
// are counted with the AWS ones, as "az:OPERATION".
//
// IP rules carry no owner, so the test keeps its own list of the rules it
// put in the vault as somebody else (s.azOthers): the vault's first rule
// (a team's) and the rule the stack starts with, which a first run does not
// own. What ipsync owns is every other rule.
var vaultKind = kind{
	name: azurekeyvault.Type, sid: "atlas-ip-sync", writeOp: "az:" + azuretest.OpPatchVault,
	readOp: "GetSecretValue", alsoReads: []string{"az:" + azuretest.OpToken, "az:" + azuretest.OpGetVault},
	createIn: createVault,
	topKeys: func(s *stack) string {
		return fmt.Sprintf("azure:\n  tenantId: %s\n  clientId: %s\n  credentials: {secretId: %s}\n  authorityURL: %s\n  managementURL: %s\n",
			azuretest.TenantID, azuretest.ClientID, azureSecret(s), s.az.URL, s.az.URL)
	},
	owned: func(t testing.TB, s *stack) []string { return vaultOwned(s).Strings() },
	getLive: func(t testing.TB, s *stack) string {
		return strings.Join(s.az.IPRules(s.resource), " ")
	},
	outside: func(t testing.TB, s *stack) any {
		v := s.az.Vault(s.resource)
		acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
		var others []string
		for _, r := range s.az.IPRules(s.resource) {
			if slices.Contains(s.azOthers, norm(r)) {
				others = append(others, norm(r))
			}
		}
		tags := v["tags"].(map[string]any)
		return [5]any{others, acls["bypass"], acls["defaultAction"], fmt.Sprint(acls["virtualNetworkRules"]), tags["env"]}
	},
	setOwned: setVaultOwned,
	recorded: true,
	tooMany:  1001, oversizeWant: "would hold 1004 rules; the limit is 1000",
}

func azureSecret(s *stack) string { return "ipsync/azure-" + s.bucket }

// createVault starts the stack's Azure simulator, stores the client secret
// in Secrets Manager and makes a vault holding a team's rule and values.
func createVault(t testing.TB, s *stack, values ...string) string {
	t.Helper()
	az, err := azuretest.New(filepath.Join(testenv.Testdata(t), "azure", "keyvault-2024-11-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	az.OnCall = func(op string) { s.calls.Add("az:" + op) }
	if _, err := az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p := az.Problems(); len(p) > 0 {
			t.Errorf("Azure requests or answers off the spec: %v", p)
		}
		az.Close()
	})
	s.az = az
	s.bucket = uniq("ipsync")
	_, err = secretsmanager.NewFromConfig(s.rawAWS).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(azureSecret(s)), SecretString: aws.String(`{"clientSecret":"` + azuretest.ClientSecret + `"}`)})
	var exists *smtypes.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-kv"
	// Atlas's key for the project is in this vault: its encryption-at-rest
	// answer is azureKeyVault's, which the rollback scenarios flip.
	s.sim.SetEncryptionAtRestAzure(project, atlastest.AzureKeyVault{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroupName: "rg-atlas", KeyVaultName: "atlas-kv"})
	v := azuretest.NewVault(id, append([]string{"203.0.113.0/24"}, values...)...)
	v["tags"] = map[string]any{"env": "prod"}
	az.SetVault(v)
	s.azOthers = []string{"203.0.113.0/24"}
	for _, val := range values {
		s.azOthers = append(s.azOthers, norm(val))
	}
	return id
}

func norm(v string) string { return ipset.MustParse(v).Strings()[0] }

func vaultOwned(s *stack) ipset.Set {
	var mine []string
	for _, r := range s.az.IPRules(s.resource) {
		if !slices.Contains(s.azOthers, norm(r)) {
			mine = append(mine, r)
		}
	}
	return ipset.MustParse(mine...)
}

// setVaultOwned is a human changing the vault's rules so that ipsync's
// allow values: ipsync's rules not among them go; a rule added for one is
// the human's, not ipsync's (an IP rule says nothing of its owner).
func setVaultOwned(t testing.TB, s *stack, values ...string) {
	t.Helper()
	owned := vaultOwned(s)
	want := map[string]bool{}
	for _, v := range values {
		want[norm(v)] = true
	}
	v := s.az.Vault(s.resource)
	acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
	var rules []any
	for _, r := range s.az.IPRules(s.resource) {
		n := norm(r)
		if slices.Contains(owned.Strings(), n) && !want[n] {
			continue
		}
		delete(want, n)
		rules = append(rules, map[string]any{"value": r})
	}
	for _, val := range values {
		if n := norm(val); want[n] {
			rules = append(rules, map[string]any{"value": n})
			s.azOthers = append(s.azOthers, n)
		}
	}
	acls["ipRules"] = rules
	v["systemData"].(map[string]any)["lastModifiedAt"] = "2026-12-02T09:00:00.0000000Z"
	s.az.SetVault(v)
}
