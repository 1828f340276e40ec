// Package iamrolepolicy is the iam-role-policy kind: an inline policy of
// the role Atlas assumes to use the key, where Atlas's own documentation
// puts the IP conditions. The resource is "ROLE_NAME/POLICY_NAME". IAM
// limits all inline policies of a role to 10,240 characters together,
// white space not counted: the adapter (iamio) says how much the role's
// other inline policies leave.
package iamrolepolicy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/policydoc"
)

// Type is the kind's name in the config.
const Type target.Type = "iam-role-policy"

// Limit is shared by all inline policies of one role.
var Limit = policy.Limit{Name: "IAM role's inline policies (all of them together)", Max: 10240, Chars: true, NoSpace: true}

// Kind is the iam-role-policy kind.
type Kind struct{}

// Fence reads an inline policy's owned statement.
func Fence(doc []byte, sid string) (target.Fence, error) { return policydoc.Read(doc, sid, Limit) }

// Split reads "ROLE_NAME/POLICY_NAME". Neither a role name nor a policy
// name may hold a '/'.
func Split(resource string) (role, name string, err error) {
	role, name, ok := strings.Cut(resource, "/")
	if !ok || role == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("resource %q: want ROLE_NAME/POLICY_NAME", resource)
	}
	return role, name, nil
}

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "IAM role inline policy" }
func (Kind) Capacity() target.Capacity { return policydoc.CapacityOf(Limit) }
func (Kind) Words() target.Words       { return target.Statement }

func (Kind) CheckResource(r string) error {
	if ids.RolePolicyRef(r) {
		return nil
	}
	return errors.New("want ROLE_NAME/POLICY_NAME (the role's name, not its ARN, and the inline policy's name)")
}

func (Kind) Rules() target.Rules {
	// role.policy: policy names repeat across roles.
	return target.Rules{NameFromResource: func(r string) string { return strings.ReplaceAll(r, "/", ".") }}
}

// Example is a statement that lets the role use the key only from addrs.
func (Kind) Example(sid string, addrs []string) string {
	return policydoc.Statement{
		Actions:  []string{"kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"},
		Resource: "arn:aws:kms:REGION:ACCOUNT_ID:key/KEY_ID",
		Key:      "aws:SourceIp",
	}.Example(sid, addrs)
}
