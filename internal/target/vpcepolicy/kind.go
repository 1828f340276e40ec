// Package vpcepolicy is the vpc-endpoint-policy kind: a VPC endpoint's
// policy, of which ipsync owns one statement by Sid. The adapter (vpceio)
// talks to EC2.
package vpcepolicy

import (
	"errors"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/policydoc"
)

// Type is the kind's name in the config.
const Type target.Type = "vpc-endpoint-policy"

// Limit is EC2's size limit of an endpoint policy, in characters.
var Limit = policy.Limit{Name: "VPC endpoint policy", Max: 20480, Chars: true}

// Kind is the vpc-endpoint-policy kind.
type Kind struct{}

// Fence reads an endpoint policy's owned statement.
func Fence(doc []byte, sid string) (target.Fence, error) { return policydoc.Read(doc, sid, Limit) }

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "VPC endpoint policy" }
func (Kind) Capacity() target.Capacity { return policydoc.CapacityOf(Limit) }
func (Kind) Words() target.Words       { return target.Statement }
func (Kind) Rules() target.Rules       { return target.Rules{} }

func (Kind) CheckResource(r string) error {
	if ids.VPCEndpointID(r) {
		return nil
	}
	return errors.New("want a VPC endpoint id (vpce-…)")
}

// Example is a statement that lets anyone in the VPC use KMS from addrs.
func (Kind) Example(sid string, addrs []string) string {
	return policydoc.Statement{
		Principal: `"*"`,
		Actions:   []string{"kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:GenerateDataKey"},
		Resource:  "*",
		Key:       "aws:VpcSourceIp",
	}.Example(sid, addrs)
}
