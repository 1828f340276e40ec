package atlas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

const mediaEncryptionAtRest = "application/vnd.atlas.2023-01-01+json"

// EncryptionAtRest is the part of a project's encryption-at-rest settings
// ipsync watches: whether Atlas can still use the customer's key, in AWS
// KMS (awsKms), Google Cloud KMS (googleCloudKms) or Azure Key Vault
// (azureKeyVault).
type EncryptionAtRest struct {
	Enabled bool // the provider's enabled
	// Valid: Atlas reached the key; with more than one provider answering,
	// every enabled one did.
	Valid bool
	// Providers are the answer's providers that say valid or not, as the
	// API names them.
	Providers []string
	// AzureVault is the vault of azureKeyVault, when the answer names one.
	AzureVault *AzureVault
}

// AzureVault is where Atlas's Azure key is, and how Atlas reaches it.
type AzureVault struct {
	SubscriptionID, ResourceGroupName, KeyVaultName string
	// RequirePrivateNetworking: Atlas reaches the vault over a private
	// endpoint, not through its firewall's IP rules.
	RequirePrivateNetworking bool
}

// EncryptionAtRest reads a project's encryption-at-rest state.
func (c *Client) EncryptionAtRest(ctx context.Context, groupID string) (EncryptionAtRest, error) {
	var e EncryptionAtRest
	err := c.do(ctx, call{method: "GET", path: "/api/atlas/v2/groups/" + url.PathEscape(groupID) + "/encryptionAtRest", accept: mediaEncryptionAtRest, authenticated: true},
		func(b []byte) (err error) { e, err = parseEncryptionAtRest(b); return err })
	return e, err
}

type providerState struct {
	Enabled *bool `json:"enabled"`
	Valid   *bool `json:"valid"`
	// azureKeyVault's
	SubscriptionID           string `json:"subscriptionID"`
	ResourceGroupName        string `json:"resourceGroupName"`
	KeyVaultName             string `json:"keyVaultName"`
	RequirePrivateNetworking bool   `json:"requirePrivateNetworking"`
}

func parseEncryptionAtRest(b []byte) (EncryptionAtRest, error) {
	var doc struct {
		AWSKMS *providerState `json:"awsKms"`
		GCP    *providerState `json:"googleCloudKms"`
		Azure  *providerState `json:"azureKeyVault"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return EncryptionAtRest{}, fmt.Errorf("encryption at rest: %w", err)
	}
	type named struct {
		name string
		p    *providerState
	}
	var answered, enabled []named
	for _, n := range []named{{"awsKms", doc.AWSKMS}, {"googleCloudKms", doc.GCP}, {"azureKeyVault", doc.Azure}} {
		if n.p == nil || n.p.Valid == nil {
			continue
		}
		answered = append(answered, n)
		if n.p.Enabled != nil && *n.p.Enabled {
			enabled = append(enabled, n)
		}
	}
	if len(answered) == 0 {
		// Without a valid there is nothing to verify against: an answer
		// that does not say "valid" must not be read as "invalid".
		return EncryptionAtRest{}, fmt.Errorf("encryption at rest: the answer has no awsKms.valid, googleCloudKms.valid or azureKeyVault.valid (is encryption at rest with a customer key configured for this project?)")
	}
	judged := enabled
	if len(judged) == 0 {
		judged = answered
	}
	e := EncryptionAtRest{Valid: true, Enabled: len(enabled) > 0}
	if a := doc.Azure; a != nil && a.KeyVaultName != "" {
		e.AzureVault = &AzureVault{SubscriptionID: a.SubscriptionID, ResourceGroupName: a.ResourceGroupName, KeyVaultName: a.KeyVaultName, RequirePrivateNetworking: a.RequirePrivateNetworking}
	}
	for _, n := range judged {
		e.Valid = e.Valid && *n.p.Valid
		e.Providers = append(e.Providers, n.name)
	}
	return e, nil
}
