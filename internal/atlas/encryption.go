package atlas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

const mediaEncryptionAtRest = "application/vnd.atlas.2023-01-01+json"

// EncryptionAtRest is the part of a project's encryption-at-rest settings
// ipsync watches: whether Atlas can still use the customer's AWS KMS key.
type EncryptionAtRest struct {
	Enabled bool // awsKms.enabled
	Valid   bool // awsKms.valid: Atlas reached the key with the role it holds
}

// EncryptionAtRest reads a project's AWS KMS encryption-at-rest state.
func (c *Client) EncryptionAtRest(ctx context.Context, groupID string) (EncryptionAtRest, error) {
	var e EncryptionAtRest
	err := c.do(ctx, call{method: "GET", path: "/api/atlas/v2/groups/" + url.PathEscape(groupID) + "/encryptionAtRest", accept: mediaEncryptionAtRest, authenticated: true},
		func(b []byte) (err error) { e, err = parseEncryptionAtRest(b); return err })
	return e, err
}

func parseEncryptionAtRest(b []byte) (EncryptionAtRest, error) {
	var doc struct {
		AWSKMS *struct {
			Enabled *bool `json:"enabled"`
			Valid   *bool `json:"valid"`
		} `json:"awsKms"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return EncryptionAtRest{}, fmt.Errorf("encryption at rest: %w", err)
	}
	if doc.AWSKMS == nil || doc.AWSKMS.Valid == nil {
		// Without awsKms.valid there is nothing to verify against: an answer
		// that does not say "valid" must not be read as "invalid".
		return EncryptionAtRest{}, fmt.Errorf("encryption at rest: the answer has no awsKms.valid (is AWS KMS encryption at rest configured for this project?)")
	}
	e := EncryptionAtRest{Valid: *doc.AWSKMS.Valid}
	if doc.AWSKMS.Enabled != nil {
		e.Enabled = *doc.AWSKMS.Enabled
	}
	return e, nil
}
