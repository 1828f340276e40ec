package azurekeyvault

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// APIVersion is the Key Vault management api-version ipsync speaks.
const APIVersion = "2024-11-01"

// Vault is a vault as Azure Resource Manager answers it: the fields ipsync
// reads. NetworkACLs is kept as read, so that a write sends back every
// field of it but ipRules unchanged.
type Vault struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	SystemData *SystemData       `json:"systemData,omitempty"`
	Properties Properties        `json:"properties"`
}

// SystemData holds the vault's last change: the only concurrency hint a
// vault has (no etag).
type SystemData struct {
	LastModifiedAt string `json:"lastModifiedAt,omitempty"`
	LastModifiedBy string `json:"lastModifiedBy,omitempty"`
}

// Properties are the vault's properties ipsync reads.
type Properties struct {
	NetworkACLs         json.RawMessage `json:"networkAcls,omitempty"`
	PublicNetworkAccess string          `json:"publicNetworkAccess,omitempty"`
}

// NetworkACLs is the firewall.
type NetworkACLs struct {
	Bypass        string   `json:"bypass,omitempty"`
	DefaultAction string   `json:"defaultAction,omitempty"`
	IPRules       []IPRule `json:"ipRules,omitempty"`
}

// IPRule is one rule.
type IPRule struct {
	Value string `json:"value"`
}

// ACLs is the vault's firewall; a vault without one has no rules.
func (v Vault) ACLs() (NetworkACLs, error) {
	var a NetworkACLs
	if len(v.Properties.NetworkACLs) == 0 || string(v.Properties.NetworkACLs) == "null" {
		return a, nil
	}
	if err := json.Unmarshal(v.Properties.NetworkACLs, &a); err != nil {
		return a, fmt.Errorf("properties.networkAcls: %w", err)
	}
	return a, nil
}

// LastModifiedAt is systemData.lastModifiedAt, or "".
func (v Vault) LastModifiedAt() string {
	if v.SystemData == nil {
		return ""
	}
	return v.SystemData.LastModifiedAt
}

// WithRules is the vault's networkAcls as read with ipRules replaced by
// rules: bypass, defaultAction, virtualNetworkRules and anything else in
// it are sent back as they came.
func WithRules(raw json.RawMessage, rules []IPRule) (json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, fmt.Errorf("properties.networkAcls: %w", err)
		}
	}
	if rules == nil {
		rules = []IPRule{}
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return nil, err
	}
	fields["ipRules"] = b
	return json.Marshal(fields)
}

// rule reads one rule's value: a single address may come back without
// "/32". IPv6 is not a Key Vault rule; it is refused as unreadable.
func rule(v string) (netip.Prefix, error) {
	p, err := ipset.ParsePrefix(v)
	if err != nil {
		return p, err
	}
	if !p.Addr().Is4() {
		return p, fmt.Errorf("IP rule %q is not IPv4, which a key vault's firewall cannot hold", v)
	}
	return p, nil
}

// Value is how ipsync writes a prefix: always with its length ("/32").
func Value(p netip.Prefix) string { return p.String() }

// TagName is the vault's tag that says what ipsync wrote for sid.
func TagName(sid string) string { return "ipsync-" + sid }

// TagValue is the tag's value for the set ipsync wrote: its rule count
// and digest ("3 rules sha256:0123456789abcdef").
func TagValue(set ipset.Set) string {
	return fmt.Sprintf("%d rules %s", set.Len(), Digest(set))
}

// Digest is the set's short digest.
func Digest(set ipset.Set) string {
	sum := sha256.Sum256([]byte(strings.Join(set.Strings(), ",")))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// tagDigest is the digest a tag's value names, or "".
func tagDigest(v string) string {
	if i := strings.Index(v, "sha256:"); i >= 0 {
		return strings.TrimSpace(v[i:])
	}
	return ""
}

// private are the ranges Azure refuses in a vault's IP rules (RFC 1918).
var private = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16")}

// Private is the part of set in a range Azure refuses.
func Private(set ipset.Set) ipset.Set {
	return set.Intersect(ipset.Of(private...))
}
