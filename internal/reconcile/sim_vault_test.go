package reconcile_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
)

// vault is an Azure Key Vault's firewall in the simulation. Its rules say
// nothing of their owner, so the world keeps the truth apart from them:
// mine are the rules ipsync's writes put there. The loop sees only what
// Azure shows (rules, tags) and what its snapshot says it wrote, and the
// invariants judge it against mine: a run that wrote and crashed before
// recording must still find its rules its own.
//
// One ambiguity is the contract's, not a bug: a rule a human adds with a
// value ipsync last wrote is ipsync's again (nothing tells the two apart
// between two runs), so the world counts it as ipsync's too.
type vault struct {
	rules    []string // in Azure's order
	tags     map[string]string
	mine     map[string]bool
	wrote    ipset.Set // what ipsync's last write held
	modified int
}

func newVault() *vault {
	return &vault{rules: []string{"203.0.113.0/24"}, tags: map[string]string{"env": "prod"}, mine: map[string]bool{}}
}

func (v *vault) doc() azurekeyvault.Vault {
	var rules []azurekeyvault.IPRule
	for _, r := range v.rules {
		rules = append(rules, azurekeyvault.IPRule{Value: r})
	}
	acls, _ := json.Marshal(map[string]any{"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": rules}) // strings marshal
	return azurekeyvault.Vault{Tags: maps.Clone(v.tags), SystemData: &azurekeyvault.SystemData{LastModifiedAt: fmt.Sprint(v.modified)},
		Properties: azurekeyvault.Properties{NetworkACLs: acls}}
}

func (v *vault) fence(sid string) (target.Fence, error) { return v.fenceFor(target.Ref{Sid: sid}) }

func (v *vault) fenceFor(ref target.Ref) (target.Fence, error) {
	return azurekeyvault.Fence(v.doc(), ref.Sid, ref.Written)
}

func (v *vault) apply(sid string, c target.Change) string { return v.applyFor(target.Ref{Sid: sid}, c) }

// applyFor is the adapter's write: everybody else's rules as the loop's
// read of them found, then the change's, and the tag for it.
func (v *vault) applyFor(ref target.Ref, c target.Change) string {
	f, err := azurekeyvault.Fence(v.doc(), ref.Sid, ref.Written)
	if err != nil {
		return "vault: " + err.Error()
	}
	rules := f.Rules(c.Set)
	if len(rules) > azurekeyvault.MaxRules {
		return fmt.Sprintf("sizes: vault of %d rules written", len(rules))
	}
	seen := map[string]bool{}
	v.rules = nil
	for _, r := range rules {
		p := ipset.MustParse(r.Value).Strings()[0]
		if seen[p] {
			return "ownership: a rule for " + p + " written twice (Azure refuses a duplicate)"
		}
		seen[p] = true
		v.rules = append(v.rules, r.Value)
	}
	v.tags = f.Tags(ref.Sid, c.Set)
	v.wrote = c.Set
	v.mine = map[string]bool{}
	for _, p := range c.Set.Strings() {
		v.mine[p] = true
	}
	v.modified++
	return ""
}

// owned is the truth: the rules ipsync wrote that are still there.
func (v *vault) owned(string) ipset.Set {
	var out []string
	for _, r := range v.rules {
		if p := ipset.MustParse(r).Strings()[0]; v.mine[p] {
			out = append(out, p)
		}
	}
	return ipset.MustParse(out...)
}

// outside is everybody else's rules, in order, and the other tags.
func (v *vault) outside(sid string) string {
	var others []string
	for _, r := range v.rules {
		if p := ipset.MustParse(r).Strings()[0]; !v.mine[p] {
			others = append(others, p)
		}
	}
	tags := maps.Clone(v.tags)
	delete(tags, azurekeyvault.TagName(sid))
	return strings.Join(others, ",") + " tags " + fmt.Sprint(slices.Sorted(maps.Keys(tags)))
}

// setOwned is a human making ipsync's rules allow s: ipsync's rules not in
// it go; a rule added for the rest is the human's.
func (v *vault) setOwned(_ string, s ipset.Set) {
	want := map[string]bool{}
	for _, p := range s.Strings() {
		want[p] = true
	}
	var kept []string
	for _, r := range v.rules {
		p := ipset.MustParse(r).Strings()[0]
		if v.mine[p] && !want[p] {
			delete(v.mine, p)
			continue
		}
		delete(want, p)
		kept = append(kept, r)
	}
	for _, p := range s.Strings() {
		if want[p] && strings.Contains(p, ".") {
			kept = append(kept, p)
			v.mine[p] = v.mine[p] || slices.Contains(v.wrote.Strings(), p)
		}
	}
	v.rules = kept
	v.modified++
}

// toggleOther adds or removes a rule of somebody else's (IPv4 only).
func (v *vault) toggleOther(addr string) {
	p := ipset.MustParse(addr).Strings()[0]
	if !strings.Contains(p, ".") || v.mine[p] {
		return
	}
	for i, r := range v.rules {
		if ipset.MustParse(r).Strings()[0] == p {
			v.rules = append(v.rules[:i], v.rules[i+1:]...)
			v.modified++
			return
		}
	}
	v.rules = append(v.rules, p)
	v.mine[p] = slices.Contains(v.wrote.Strings(), p)
	v.modified++
}
