package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// TargetSet is what ipsync publishes of one target beside the snapshot,
// for infrastructure as code to render the owned part from
// (<snapshot prefix>/targets/<name>.json; docs/iac.md).
type TargetSet struct {
	Target      string    `json:"target"`
	Type        string    `json:"type"`
	Resource    string    `json:"resource"`
	CIDRs       []string  `json:"cidrs"`
	Hash        string    `json:"hash"`
	GeneratedAt time.Time `json:"generatedAt"`
}

// NewTargetSet is the published form of a target's set.
func NewTargetSet(name, typ, resource string, set ipset.Set, now time.Time) TargetSet {
	cidrs := set.Strings()
	if cidrs == nil {
		cidrs = []string{}
	}
	return TargetSet{Target: name, Type: typ, Resource: resource, CIDRs: cidrs, Hash: SetHash(set), GeneratedAt: now.UTC()}
}

// SetHash is "sha256:" and the digest of the set's prefixes, one per line:
// what a reader compares to see whether the set changed.
func SetHash(set ipset.Set) string {
	sum := sha256.Sum256([]byte(strings.Join(set.Strings(), "\n")))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Marshal is the object's body.
func (t TargetSet) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("published set of %s: %w", t.Target, err)
	}
	return append(b, '\n'), nil
}

// TargetSetPath is where a target's set goes, relative to the snapshot's
// directory or key prefix.
func TargetSetPath(name string) string { return "targets/" + name + ".json" }
