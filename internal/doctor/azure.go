package doctor

import (
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
)

// firewall is a fence that acts only when its firewall is set to (an
// Azure Key Vault's IP rules), and that may know more of its ownership
// than a line says.
type firewall interface {
	DefaultAction() string
	PublicNetworkAccess() string
	Note() string
}

// checkFirewall warns when the rules do nothing (the firewall lets all in,
// or nothing comes in over the public network at all), and when what
// ipsync owns was found by its record alone.
func checkFirewall(name string, fw firewall, add adder) {
	if fw.DefaultAction() == "Allow" {
		add(Warn, name+" firewall", "the vault's networkAcls.defaultAction is Allow: the firewall is open and its IP rules do nothing; set it to Deny once the rules hold what Atlas needs (ipsync never changes it)")
	}
	if fw.PublicNetworkAccess() == "Disabled" {
		add(Warn, name+" firewall", "the vault's publicNetworkAccess is Disabled: no IP rule admits anyone, Atlas included; Atlas must reach it over a private endpoint")
	}
	if n := fw.Note(); n != "" {
		add(Warn, name+" ownership", "%s", n)
	}
}

// checkAzureVault: Atlas's key for project p is in vault; a fence ipsync
// keeps must be that vault's, and its IP rules must be what Atlas uses.
func checkAzureVault(c *config.Config, p string, v atlas.AzureVault, add adder) {
	want := azurekeyvault.Location{Subscription: v.SubscriptionID, ResourceGroup: v.ResourceGroupName, Name: v.KeyVaultName}.Path()
	found := false
	for _, t := range c.Targets {
		found = found || t.Type == azurekeyvault.Type && strings.EqualFold(t.Resource, want)
	}
	if !found {
		add(Fail, "azure key vault "+p, "Atlas's key for project %s is in the vault %s, which no azure-key-vault target names: nothing keeps its firewall open to Atlas; add a target for it", p, want)
	} else {
		add(OK, "azure key vault "+p, "Atlas's key is in %s, a target of this config", want)
	}
	if v.RequirePrivateNetworking {
		add(Warn, "azure key vault "+p, "Atlas reaches the vault over private networking (azureKeyVault.requirePrivateNetworking): its IP rules are not what Atlas uses, and ipsync's keep nothing open for it")
	}
}
