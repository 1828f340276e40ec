package doctor

import (
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// azureKey is Atlas's azureKeyVault answer as a key's home.
func azureKey(v atlas.AzureVault) target.AtlasKey {
	return target.AtlasKey{Provider: "azureKeyVault", Name: "azure key vault", Noun: "the vault", Private: v.RequirePrivateNetworking, Fields: map[string]string{
		"subscriptionID": v.SubscriptionID, "resourceGroupName": v.ResourceGroupName, "keyVaultName": v.KeyVaultName}}
}

// checkKeyHome: Atlas's key for project p is in a fence some kind knows
// (its KeyResource); a target of that kind must keep that fence, and its
// IP rules must be what Atlas uses.
func checkKeyHome(c *config.Config, p string, key target.AtlasKey, add adder) {
	for _, k := range c.Kinds() {
		home, ok := k.(target.KeyHome)
		if !ok || home.KeyResource(key) == "" {
			continue
		}
		want := home.KeyResource(key)
		found := false
		for _, t := range c.Targets {
			found = found || t.Type == k.Type() && strings.EqualFold(t.Resource, want)
		}
		what := key.Name + " " + p
		if !found {
			add(Fail, what, "Atlas's key for project %s is in %s %s, which no %s target names: nothing keeps its firewall open to Atlas; add a target for it", p, key.Noun, want, k.Type())
		} else {
			add(OK, what, "Atlas's key is in %s, a target of this config", want)
		}
		if key.Private {
			add(Warn, what, "Atlas reaches %s over private networking (%s.requirePrivateNetworking): its IP rules are not what Atlas uses, and ipsync's keep nothing open for it", key.Noun, key.Provider)
		}
	}
}
