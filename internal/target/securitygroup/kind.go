// Package securitygroup is the security-group kind: the rules of one
// direction, protocol and port range in a security group, of which ipsync
// owns those whose description starts with the target's sid, one rule per
// CIDR. Every other rule is left alone, even one with a CIDR ipsync wants
// (the plan counts it as allowed). The adapter (sgio) talks to EC2.
package securitygroup

import (
	"errors"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Type is the kind's name in the config.
const Type target.Type = "security-group"

// DefaultQuota is EC2's default quota of rules per security group, per
// direction, counted for IPv4 and IPv6 apart.
const DefaultQuota = 60

// Suffix follows the sid in the description of each rule ipsync writes.
const Suffix = " managed"

// maxDescription is EC2's limit on a rule's description.
const maxDescription = 255

// Kind is the security-group kind.
type Kind struct{}

func (Kind) Type() target.Type { return Type }
func (Kind) Noun() string      { return "security group" }

// Capacity is the default quota; a target's maxRules raises it.
func (Kind) Capacity() target.Capacity { return Capacity("", DefaultQuota) }

// Capacity names a group's quota for messages.
func Capacity(group string, quota int) target.Capacity {
	name := "security group"
	if group != "" {
		name += " " + group
	}
	return target.Capacity{Name: name, Max: quota, Unit: target.RuleCount}
}

func (Kind) Words() target.Words {
	return target.Words{Part: "the owned rules", Plural: true, Updated: "The security group's owned rules were updated and verified.",
		Size: "security group (the fuller address family)", Others: "a rule ipsync does not own"}
}

func (Kind) CheckResource(r string) error {
	if ids.SecurityGroupID(r) {
		return nil
	}
	return errors.New("want a security group id (sg-…)")
}

func (Kind) Rules() target.Rules {
	return target.Rules{
		MaxSid:   maxDescription - len(Suffix),
		SidMeans: "the owned rules' description prefix",
		SidChars: DescriptionChars,
		// A group on the path from Atlas to the key (a KMS endpoint's) may
		// guard encryption at rest: a change is verified with Atlas.
		EncryptionAtRest: true,
		CheckOptions:     func(o target.Options) error { _, err := ParseRule(o); return err },
	}
}

// Example: a group needs nothing added; ipsync adds its rules.
func (Kind) Example(string, []string) string { return "" }

// DescriptionChars says whether EC2 takes s in a rule's description:
// a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*.
func DescriptionChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(" ._-:/()#,@[]+=&;{}!$*", c) >= 0) {
			return false
		}
	}
	return true
}
