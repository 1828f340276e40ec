package azurekeyvault

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
)

// Firewall is a vault's IP rules as a fence: the ones ipsync wrote, and
// everybody else's, which it counts and never changes.
type Firewall struct {
	*entries.Fence
	vault  Vault
	acls   NetworkACLs
	others []IPRule // as read, in their order
	note   string
}

// Fence reads a vault for the target of sid. written are what the snapshot
// says ipsync wrote (target.Ref.Written): the vault's tag picks which of
// them is in the vault now (a run that wrote and stopped before recording
// leaves its set there, and the tag says so).
func Fence(v Vault, sid string, written []ipset.Set) (*Firewall, error) {
	acls, err := v.ACLs()
	if err != nil {
		return nil, err
	}
	tag, tagged := v.Tags[TagName(sid)]
	mine, note := chooseOwned(sid, tag, tagged, written)
	f := &Firewall{vault: v, acls: acls, note: note}
	var owned, others []netip.Prefix
	for _, r := range acls.IPRules {
		p, err := rule(r.Value)
		if err != nil {
			return nil, err
		}
		if slices.Contains(mine.Prefixes(), p) {
			owned = append(owned, p)
			continue
		}
		others = append(others, p)
		f.others = append(f.others, r)
	}
	managed := ipset.Of(owned...)
	summary := fmt.Sprintf("%s of %d written by ipsync (tag %s), defaultAction %s", entries.Count(len(owned), "IP rule", "IP rules"), len(acls.IPRules), TagName(sid), orDefault(acls.DefaultAction, "Allow"))
	if note != "" {
		summary += "; " + note
	}
	f.Fence = entries.New(entries.List{
		Managed: managed, Count: len(owned), Others: len(others), OthersHold: others,
		Limit: Capacity, Version: v.LastModifiedAt(), Families: target.IPv4, Summary: summary,
		Advice: func(need int) string {
			return fmt.Sprintf("a vault holds at most %d IP rules, everybody's counted (%d are not ipsync's); remove rules nobody needs or narrow the target's sources", MaxRules, len(others))
		},
	})
	return f, nil
}

// chooseOwned is the set ipsync owns in the vault, and what to say about
// how it was found.
func chooseOwned(sid, tag string, tagged bool, written []ipset.Set) (ipset.Set, string) {
	switch {
	case len(written) == 0 && tagged:
		return ipset.Set{}, fmt.Sprintf("the vault's tag %s says ipsync wrote %q, but the snapshot records nothing of this target: ipsync owns none of its rules and adds only what is missing (a lost snapshot, or another deployment writing this vault)", TagName(sid), tag)
	case len(written) == 0:
		return ipset.Set{}, ""
	case !tagged:
		if written[0].IsEmpty() {
			return written[0], ""
		}
		return written[0], fmt.Sprintf("the vault has no tag %s; ipsync owns the rules the snapshot records", TagName(sid))
	}
	want := tagDigest(tag)
	for i := len(written) - 1; i >= 0; i-- {
		if Digest(written[i]) == want {
			return written[i], ""
		}
	}
	return written[0], fmt.Sprintf("the vault's tag %s (%q) is not what the snapshot records ipsync wrote: ipsync owns the rules the snapshot records; another deployment may be writing this vault", TagName(sid), tag)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Rewrite is the change to the rules ipsync writes equal to desired; an
// address in a range Azure refuses is refused here, before any write.
func (f *Firewall) Rewrite(desired ipset.Set, room target.Capacity) (target.Change, error) {
	c, err := f.Fence.Rewrite(desired, room)
	if err != nil {
		return c, err
	}
	if p := Private(desired); !p.IsEmpty() {
		return target.Change{}, fmt.Errorf("private ranges (RFC 1918) are refused by Azure in a key vault's IP rules: %s; take them out of the target's static CIDRs", few(p, 5))
	}
	return c, nil
}

// few names at most n of set's prefixes, and how many more there are.
func few(set ipset.Set, n int) string {
	s := set.Strings()
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(s[:n], ", "), len(s)-n)
}

// Rules are the vault's IP rules once set is what ipsync wrote:
// everybody else's as read, then ipsync's, one rule per prefix.
func (f *Firewall) Rules(set ipset.Set) []IPRule {
	out := slices.Clone(f.others)
	for _, p := range set.Prefixes() {
		out = append(out, IPRule{Value: Value(p)})
	}
	return out
}

// Tags are the vault's tags as read, with ipsync's for set.
func (f *Firewall) Tags(sid string, set ipset.Set) map[string]string {
	out := map[string]string{}
	for k, v := range f.vault.Tags {
		out[k] = v
	}
	out[TagName(sid)] = TagValue(set)
	return out
}

// Vault is the vault as read.
func (f *Firewall) Vault() Vault { return f.vault }

// DefaultAction is the firewall's action for what no rule matches.
func (f *Firewall) DefaultAction() string { return orDefault(f.acls.DefaultAction, "Allow") }

// PublicNetworkAccess is the vault's ("Enabled" when it does not say).
func (f *Firewall) PublicNetworkAccess() string {
	return orDefault(f.vault.Properties.PublicNetworkAccess, "Enabled")
}

// Note is what reading found worth saying about ownership, or "".
func (f *Firewall) Note() string { return f.note }

// Warnings: rules that do nothing (the firewall lets all in, or nothing
// comes in over the public network at all), ownership found by the
// record alone, and another owner's rule open to every address.
func (f *Firewall) Warnings() []target.Warning {
	var out []target.Warning
	if f.DefaultAction() == "Allow" {
		out = append(out, target.Warning{Topic: "firewall", Detail: "the vault's networkAcls.defaultAction is Allow: the firewall is open and its IP rules do nothing; set it to Deny once the rules hold what Atlas needs (ipsync never changes it)"})
	}
	if f.PublicNetworkAccess() == "Disabled" {
		out = append(out, target.Warning{Topic: "firewall", Detail: "the vault's publicNetworkAccess is Disabled: no IP rule admits anyone, Atlas included; Atlas must reach it over a private endpoint"})
	}
	if f.note != "" {
		out = append(out, target.Warning{Topic: "ownership", Detail: f.note})
	}
	return append(out, f.Fence.Warnings()...)
}
