// Package gcpaccesslevel is the gcp-access-level kind: a basic access
// level of Google's Access Context Manager (VPC Service Controls), owned
// whole when its description starts with the target's sid. Its conditions
// hold the addresses, at most 200 CIDRs each and 40 conditions, combined
// with OR. The adapter (gcpio) talks to the API over net/http.
package gcpaccesslevel

import (
	"errors"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Type is the kind's name in the config.
const Type target.Type = "gcp-access-level"

// Google's limits of a basic level's conditions.
const (
	PerCondition  = 200
	MaxConditions = 40
)

// Capacity is every CIDR a level can hold.
var Capacity = target.Capacity{Name: "GCP basic access level", Max: PerCondition * MaxConditions, Unit: target.Entries}

// Kind is the gcp-access-level kind.
type Kind struct{}

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "GCP access level" }
func (Kind) Capacity() target.Capacity { return Capacity }

func (Kind) Words() target.Words {
	return target.Words{Part: "the access level's conditions", Plural: true, Updated: "The access level was updated and verified.", Size: "access level"}
}

// CheckResource wants accessPolicies/NUMBER/accessLevels/NAME.
func (Kind) CheckResource(r string) error {
	p := strings.Split(r, "/")
	if len(p) == 4 && p[0] == "accessPolicies" && digits(p[1]) && p[2] == "accessLevels" && levelName(p[3]) {
		return nil
	}
	return errors.New("want accessPolicies/POLICY_NUMBER/accessLevels/LEVEL_NAME (letters, digits and _, at most 50, starting with a letter)")
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != "" && len(s) <= 30
}

// levelName is Google's short name of a level: a letter, then letters,
// digits and underscores, at most 50 characters.
func levelName(s string) bool {
	if s == "" || len(s) > 50 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (Kind) Rules() target.Rules {
	// One target per level: ipsync owns it whole. A level may guard a
	// project's encryption at rest with Cloud KMS: changes are verified.
	return target.Rules{MaxSid: 2000, SidMeans: "the start of the access level's description", OnePerResource: true, EncryptionAtRest: true, OutsideAWS: true, Cloud: target.CloudGCP,
		NameFromResource: func(r string) string { return r[strings.LastIndex(r, "/")+1:] }}
}

// Example: nothing to paste; the level's description says who owns it.
func (Kind) Example(string, []string) string { return "" }
