package reconciletest

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
var VaultKind = Kind{
	Name: azurekeyvault.Type, Sid: "atlas-ip-sync", WriteOp: "az:" + azuretest.OpPatchVault,
	ReadOp: "GetSecretValue", AlsoReads: []string{"az:" + azuretest.OpToken, "az:" + azuretest.OpGetVault},
	CreateIn: CreateVault,
	TopKeys: func(s *Stack) string {
		return fmt.Sprintf("azure:\n  tenantId: %s\n  clientId: %s\n  credentials: {secretId: %s}\n  authorityURL: %s\n  managementURL: %s\n",
			azuretest.TenantID, azuretest.ClientID, AzureSecret(s), s.Az.URL, s.Az.URL)
	},
	Owned: func(t testing.TB, s *Stack) []string { return VaultOwned(s).Strings() },
	GetLive: func(t testing.TB, s *Stack) string {
		return strings.Join(s.Az.IPRules(s.Resource), " ")
	},
	Outside: func(t testing.TB, s *Stack) any {
		v := s.Az.Vault(s.Resource)
		acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
		var others []string
		for _, r := range s.Az.IPRules(s.Resource) {
			if slices.Contains(s.AzOthers, Norm(r)) {
				others = append(others, Norm(r))
			}
		}
		tags := v["tags"].(map[string]any)
		return [5]any{others, acls["bypass"], acls["defaultAction"], fmt.Sprint(acls["virtualNetworkRules"]), tags["env"]}
	},
	SetOwned: SetVaultOwned,
	Recorded: true,
	TooMany:  1001, OversizeWant: "would hold 1004 rules; the limit is 1000",
}

func AzureSecret(s *Stack) string { return "ipsync/azure-" + s.Bucket }

// CreateVault starts the stack's Azure simulator, stores the client secret
// in Secrets Manager and makes a vault holding a team's rule and values.
func CreateVault(t testing.TB, s *Stack, values ...string) string {
	t.Helper()
	az, err := azuretest.New(filepath.Join(testenv.Testdata(t), "azure", "keyvault-2024-11-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	az.OnCall = func(op string) { s.Calls.Add("az:" + op) }
	if _, err := az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p := az.Problems(); len(p) > 0 {
			t.Errorf("Azure requests or answers off the spec: %v", p)
		}
		az.Close()
	})
	s.Az = az
	s.Bucket = Uniq("ipsync")
	_, err = secretsmanager.NewFromConfig(s.RawAWS).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(AzureSecret(s)), SecretString: aws.String(`{"clientSecret":"` + azuretest.ClientSecret + `"}`)})
	var exists *smtypes.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-kv"
	// Atlas's key for the project is in this vault: its encryption-at-rest
	// answer is azureKeyVault's, which the rollback scenarios flip.
	s.Sim.SetEncryptionAtRestAzure(Project, atlastest.AzureKeyVault{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroupName: "rg-atlas", KeyVaultName: "atlas-kv"})
	v := azuretest.NewVault(id, append([]string{"203.0.113.0/24"}, values...)...)
	v["tags"] = map[string]any{"env": "prod"}
	az.SetVault(v)
	s.AzOthers = []string{"203.0.113.0/24"}
	for _, val := range values {
		s.AzOthers = append(s.AzOthers, Norm(val))
	}
	return id
}

func Norm(v string) string { return ipset.MustParse(v).Strings()[0] }

func VaultOwned(s *Stack) ipset.Set {
	var mine []string
	for _, r := range s.Az.IPRules(s.Resource) {
		if !slices.Contains(s.AzOthers, Norm(r)) {
			mine = append(mine, r)
		}
	}
	return ipset.MustParse(mine...)
}

// SetVaultOwned is a human changing the vault's rules so that ipsync's
// allow values: ipsync's rules not among them go; a rule added for one is
// the human's, not ipsync's (an IP rule says nothing of its owner).
func SetVaultOwned(t testing.TB, s *Stack, values ...string) {
	t.Helper()
	owned := VaultOwned(s)
	want := map[string]bool{}
	for _, v := range values {
		want[Norm(v)] = true
	}
	v := s.Az.Vault(s.Resource)
	acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
	var rules []any
	for _, r := range s.Az.IPRules(s.Resource) {
		n := Norm(r)
		if slices.Contains(owned.Strings(), n) && !want[n] {
			continue
		}
		delete(want, n)
		rules = append(rules, map[string]any{"value": r})
	}
	for _, val := range values {
		if n := Norm(val); want[n] {
			rules = append(rules, map[string]any{"value": n})
			s.AzOthers = append(s.AzOthers, n)
		}
	}
	acls["ipRules"] = rules
	v["systemData"].(map[string]any)["lastModifiedAt"] = "2026-12-02T09:00:00.0000000Z"
	s.Az.SetVault(v)
}
