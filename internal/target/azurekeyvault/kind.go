// Package azurekeyvault is the azure-key-vault kind: the IP rules of an
// Azure Key Vault's firewall (properties.networkAcls.ipRules). IP rules
// carry no description, so what ipsync owns is what it wrote: the rules
// the snapshot records (target.Ref.Written), confirmed by a tag on the
// vault, ipsync-<sid>, that holds their count and digest. Every other rule
// is left alone and counted. The adapter (azkvio) talks to Azure Resource
// Manager over net/http.
package azurekeyvault

import (
	"errors"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Type is the kind's name in the config.
const Type target.Type = "azure-key-vault"

// MaxRules is Azure's limit of IP rules on one vault, everybody's counted.
const MaxRules = 1000

// Capacity is every IP rule a vault can hold.
var Capacity = target.Capacity{Name: "Azure Key Vault firewall", Max: MaxRules, Unit: target.RuleCount}

// Kind is the azure-key-vault kind.
type Kind struct{}

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "Azure Key Vault firewall" }
func (Kind) Capacity() target.Capacity { return Capacity }

func (Kind) Words() target.Words {
	return target.Words{Part: "the IP rules ipsync wrote", Plural: true, Updated: "The key vault's firewall was updated and verified.", Size: "IP rules", Others: "an IP rule ipsync did not write",
		FirstRunSays: "first run: ipsync owns none of the vault's IP rules yet; it adds the desired addresses no other rule holds (the same value), and owns what it adds"}
}

// CheckResource wants a vault's resource id.
func (Kind) CheckResource(r string) error {
	if _, err := Locate(r); err != nil {
		return err
	}
	return nil
}

func (Kind) Rules() target.Rules {
	// One target per vault: two would each count the other's rules as
	// someone else's. A vault may guard a project's encryption at rest:
	// changes are verified. The sid names the vault's tag.
	return target.Rules{MaxSid: 128, SidMeans: "the name of ipsync's tag on the vault, after ipsync-", OnePerResource: true, EncryptionAtRest: true, OutsideAWS: true, Cloud: target.CloudAzure,
		RecordedOwnership: true, SidChars: tagNameChars, NameFromResource: func(r string) string { return r[strings.LastIndex(r, "/")+1:] }}
}

// Example: nothing to paste; ipsync adds its own rules.
func (Kind) Example(string, []string) string { return "" }

// tagNameChars: Azure refuses < > % & \ ? / in a tag's name.
func tagNameChars(sid string) bool { return sid != "" && !strings.ContainsAny(sid, `<>%&\?/ `) }

// KeyResource is the vault Atlas's azureKeyVault answer names.
func (Kind) KeyResource(key target.AtlasKey) string {
	if key.Provider != "azureKeyVault" {
		return ""
	}
	return Location{Subscription: key.Fields["subscriptionID"], ResourceGroup: key.Fields["resourceGroupName"], Name: key.Fields["keyVaultName"]}.Path()
}

// Location is where a vault is.
type Location struct {
	Subscription, ResourceGroup, Name string
}

// Locate reads a vault's resource id:
// /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/NAME.
func Locate(id string) (Location, error) {
	p := strings.Split(id, "/")
	bad := errors.New("want /subscriptions/SUBSCRIPTION_ID/resourceGroups/RESOURCE_GROUP/providers/Microsoft.KeyVault/vaults/VAULT_NAME (a vault name is 3 to 24 letters, digits and -)")
	if len(p) != 9 || p[0] != "" || !strings.EqualFold(p[1], "subscriptions") || !strings.EqualFold(p[3], "resourceGroups") ||
		!strings.EqualFold(p[5], "providers") || !strings.EqualFold(p[6], "Microsoft.KeyVault") || !strings.EqualFold(p[7], "vaults") {
		return Location{}, bad
	}
	if !segment(p[2], 36) || !resourceGroup(p[4]) || !vaultName(p[8]) {
		return Location{}, bad
	}
	return Location{Subscription: p[2], ResourceGroup: p[4], Name: p[8]}, nil
}

// Path is the vault's resource id, as Azure spells its fixed parts.
func (v Location) Path() string {
	return "/subscriptions/" + v.Subscription + "/resourceGroups/" + v.ResourceGroup + "/providers/Microsoft.KeyVault/vaults/" + v.Name
}

func segment(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// resourceGroup: 1 to 90 letters, digits, _ - . ( ), not ending in a dot.
func resourceGroup(s string) bool {
	if s == "" || len(s) > 90 || strings.HasSuffix(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.()", c) >= 0) {
			return false
		}
	}
	return true
}

// vaultName is the spec's ^[a-zA-Z0-9-]{3,24}$.
func vaultName(s string) bool { return len(s) >= 3 && segment(s, 24) }
