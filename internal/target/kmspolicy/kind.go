// Package kmspolicy is the kms-key-policy kind: a KMS key policy, of which
// ipsync owns one statement by Sid. The adapter (kmsio) talks to KMS.
package kmspolicy

import (
	"errors"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/policydoc"
)

// Type is the kind's name in the config.
const Type target.Type = "kms-key-policy"

// Limit is KMS's size limit of a key policy (docs/design.md "Ownership").
var Limit = policy.Limit{Name: "KMS key policy", Max: 32768}

// Kind is the kms-key-policy kind.
type Kind struct{}

// Fence reads a key policy's owned statement.
func Fence(doc []byte, sid string) (target.Fence, error) { return policydoc.Read(doc, sid, Limit) }

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "KMS key policy" }
func (Kind) Capacity() target.Capacity { return policydoc.CapacityOf(Limit) }
func (Kind) Words() target.Words       { return target.Statement }

func (Kind) CheckResource(r string) error {
	if ids.KMSKeyARN(r) || ids.KMSKeyID(r) {
		return nil
	}
	return errors.New("want a KMS key ARN (arn:aws:kms:region:account:key/id) or key id (aliases cannot carry a key policy)")
}

func (Kind) Rules() target.Rules {
	return target.Rules{
		EncryptionAtRest: true,
		// Atlas's guidance for KMS: allow the control plane's outbound
		// addresses of every provider and region.
		DefaultSources: []string{"control-plane-outbound"},
	}
}

// Example is a statement that lets the role Atlas assumes use the key from
// addrs.
func (Kind) Example(sid string, addrs []string) string {
	return policydoc.Statement{
		Principal: `{"AWS": "arn:aws:iam::ACCOUNT_ID:role/ROLE_ATLAS_ASSUMES"}`,
		Actions:   []string{"kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"},
		Resource:  "*",
		Key:       "aws:SourceIp",
	}.Example(sid, addrs)
}
