package doctor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault/azkvio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const vaultID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-kv"

func vaultConfig(t *testing.T, resource string) *config.Config {
	t.Helper()
	c, err := configfile.Parse([]byte(`
azure: {tenantId: ` + azuretest.TenantID + `, clientId: ` + azuretest.ClientID + `, credentials: {secretId: az}}
targets:
  - {name: vault, type: azure-key-vault, resource: "` + resource + `", sid: atlas-ip-sync, static: [198.51.100.1]}
`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A vault whose firewall is open, or closed to the public network, keeps
// nothing out or lets nothing in whatever its rules: doctor says so.
func TestVaultFirewallWarnings(t *testing.T) {
	s, err := azuretest.New(filepath.Join(testenv.Testdata(t), "azure", "keyvault-2024-11-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	v := azuretest.NewVault(vaultID, "203.0.113.0/24")
	props := v["properties"].(map[string]any)
	props["networkAcls"].(map[string]any)["defaultAction"] = "Allow"
	props["publicNetworkAccess"] = "Disabled"
	s.SetVault(v)
	a := azkvio.New(azkvio.FromSecret(azkvio.App{TenantID: azuretest.TenantID, ClientID: azuretest.ClientID, Authority: s.URL, Management: s.URL},
		func(context.Context) ([]byte, error) {
			return []byte(`{"clientSecret":"` + azuretest.ClientSecret + `"}`), nil
		}), s.URL, reconcile.SleepContext)
	c := vaultConfig(t, vaultID)
	d := Deps{Config: c, Adapters: target.Adapters{{Type: azurekeyvault.Type}: a}, Timeout: 5 * time.Second}
	got, add := collect()
	d.checkTarget(context.Background(), c.Targets[0], nil, add)
	all := ""
	for _, ch := range *got {
		all += string(ch.Status) + " " + ch.Name + ": " + ch.Detail + "\n"
	}
	for _, want := range []string{"ok target vault: azure-key-vault", "0 IP rules of 1 written by ipsync", "WARN target vault firewall: the vault's networkAcls.defaultAction is Allow", "WARN target vault firewall: the vault's publicNetworkAccess is Disabled"} {
		if !strings.Contains(all, want) {
			t.Errorf("doctor lacks %q:\n%s", want, all)
		}
	}
}

// Atlas names the vault its key is in: a config that keeps no fence of it
// fails; one that does passes; private networking means the IP rules are
// not Atlas's way in.
func TestAtlasVaultIsATarget(t *testing.T) {
	vault := atlas.AzureVault{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroupName: "RG-Atlas", KeyVaultName: "atlas-kv"}
	for name, c := range map[string]struct {
		resource string
		private  bool
		want     []string
	}{
		"kept":    {vaultID, false, []string{"ok azure key vault p: Atlas's key is in"}},
		"other":   {strings.Replace(vaultID, "atlas-kv", "other-kv", 1), false, []string{"FAIL azure key vault p: Atlas's key for project p is in the vault /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/RG-Atlas/providers/Microsoft.KeyVault/vaults/atlas-kv, which no azure-key-vault target names"}},
		"private": {vaultID, true, []string{"ok azure key vault p", "WARN azure key vault p: Atlas reaches the vault over private networking"}},
	} {
		got, add := collect()
		v := vault
		v.RequirePrivateNetworking = c.private
		checkKeyHome(vaultConfig(t, c.resource), "p", azureKey(v), add)
		all := ""
		for _, ch := range *got {
			all += string(ch.Status) + " " + ch.Name + ": " + ch.Detail + "\n"
		}
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: lacks %q:\n%s", name, w, all)
			}
		}
	}
}
