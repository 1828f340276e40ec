package azurekeyvault

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

const sid = "atlas-ip-sync"

func TestLocate(t *testing.T) {
	for r, ok := range map[string]bool{
		"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-1/providers/Microsoft.KeyVault/vaults/atlas-kv": true,
		"/subscriptions/s/resourcegroups/My.Group(1)/providers/microsoft.keyvault/vaults/abc":                                  true,
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/ab":                                            false,
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/a_b_c":                                         false,
		"/subscriptions/s/resourceGroups/rg./providers/Microsoft.KeyVault/vaults/abc":                                          false,
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/abc":                                   false,
		"subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/abc":                                            false,
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/abc/keys/k":                                    false,
	} {
		if err := (Kind{}).CheckResource(r); (err == nil) != ok {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func vault(tags map[string]string, rules ...string) Vault {
	var rs []IPRule
	for _, r := range rules {
		rs = append(rs, IPRule{Value: r})
	}
	acls, _ := json.Marshal(map[string]any{"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": rs, "virtualNetworkRules": []any{map[string]any{"id": "/subscriptions/s/x"}}})
	return Vault{Name: "kv", Tags: tags, SystemData: &SystemData{LastModifiedAt: "2026-12-01T10:00:00Z"}, Properties: Properties{NetworkACLs: acls}}
}

// What ipsync owns is what the snapshot records, as the vault's tag
// confirms: a first run owns nothing; a run that wrote and did not record
// is recognised by its tag; a tag that matches nothing falls back on the
// record, and says so.
func TestOwnership(t *testing.T) {
	old, newer := ipset.MustParse("198.51.100.1/32"), ipset.MustParse("198.51.100.1/32", "198.51.100.2/32")
	rules := []string{"203.0.113.0/24", "198.51.100.1", "198.51.100.2/32"}
	for _, c := range []struct {
		name          string
		tags          map[string]string
		written       []ipset.Set
		owned, others string
		note          string
	}{
		{"first run", nil, nil, "[]", "[198.51.100.1/32 198.51.100.2/32 203.0.113.0/24]", ""},
		{"first run, but a tag", map[string]string{TagName(sid): TagValue(old)}, nil, "[]", "[198.51.100.1/32 198.51.100.2/32 203.0.113.0/24]", "records nothing of this target"},
		{"recorded", map[string]string{TagName(sid): TagValue(old)}, []ipset.Set{old}, "[198.51.100.1/32]", "[198.51.100.2/32 203.0.113.0/24]", ""},
		{"written, not recorded", map[string]string{TagName(sid): TagValue(newer)}, []ipset.Set{old, newer}, "[198.51.100.1/32 198.51.100.2/32]", "[203.0.113.0/24]", ""},
		{"tag removed", map[string]string{"env": "prod"}, []ipset.Set{old, newer}, "[198.51.100.1/32]", "[198.51.100.2/32 203.0.113.0/24]", "has no tag"},
		{"tag of someone else's", map[string]string{TagName(sid): "1 rules sha256:0000000000000000"}, []ipset.Set{old, newer}, "[198.51.100.1/32]", "[198.51.100.2/32 203.0.113.0/24]", "is not what the snapshot records"},
	} {
		f, err := Fence(vault(c.tags, rules...), sid, c.written)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if f.Owned().String() != c.owned || fmt.Sprint(f.HeldByOthers()) != c.others || f.Used() != 3 || f.Families() != target.IPv4 {
			t.Errorf("%s: owned %v, others %v, used %d", c.name, f.Owned(), f.HeldByOthers(), f.Used())
		}
		if (c.note == "") != (f.Note() == "") || !strings.Contains(f.Note(), c.note) || !strings.Contains(f.Describe(), "defaultAction Deny") {
			t.Errorf("%s: note %q, describe %q", c.name, f.Note(), f.Describe())
		}
	}
}

func TestLimitsAreRefusedInThePlan(t *testing.T) {
	f, err := Fence(vault(nil, "203.0.113.0/24"), sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Rewrite(ipset.MustParse("198.51.100.1", "10.1.2.3"), Capacity); err == nil || !strings.Contains(err.Error(), "private ranges (RFC 1918)") || !strings.Contains(err.Error(), "10.1.2.3/32") {
		t.Fatalf("private: %v", err)
	}
	var many []string
	for i := range MaxRules {
		many = append(many, fmt.Sprintf("100.%d.%d.1", i/250, i%250))
	}
	_, err = f.Rewrite(ipset.MustParse(many...), Capacity)
	var se *target.SizeError
	if err == nil || !strings.Contains(err.Error(), "1001 rules; the limit is 1000") || !strings.Contains(err.Error(), "1 are not ipsync's") {
		t.Fatalf("too many: %v %T", err, se)
	}
	if _, err := Fence(vault(nil, "2001:db8::/64"), sid, nil); err == nil || !strings.Contains(err.Error(), "not IPv4") {
		t.Fatalf("an IPv6 rule: %v", err)
	}
}

// Property: rewriting to any desired set keeps everybody else's rules as
// they were, in their order, adds exactly desired (each with its length),
// and reading the result back with the tag it wrote finds desired owned.
func TestRewriteKeepsOthers(t *testing.T) {
	addr := func(t *rapid.T, label string) string {
		return fmt.Sprintf("%d.%d.%d.%d", rapid.IntRange(11, 99).Draw(t, label+"a"), rapid.IntRange(0, 255).Draw(t, label+"b"), rapid.IntRange(0, 255).Draw(t, label+"c"), rapid.IntRange(0, 255).Draw(t, label+"d"))
	}
	rapid.Check(t, func(t *rapid.T) {
		var before, others []string
		seen := map[netip.Prefix]bool{}
		for i := range rapid.IntRange(0, 20).Draw(t, "others") {
			a := addr(t, fmt.Sprint("o", i))
			if p := netip.MustParsePrefix(a + "/32"); !seen[p] {
				seen[p] = true
				others, before = append(others, a), append(before, a)
			}
		}
		var mine []string
		for i := range rapid.IntRange(0, 20).Draw(t, "mine") {
			a := addr(t, fmt.Sprint("m", i))
			if p := netip.MustParsePrefix(a + "/32"); !seen[p] {
				seen[p] = true
				mine = append(mine, a+"/32")
			}
		}
		owned := ipset.MustParse(mine...)
		before = append(before, owned.Strings()...)
		v := vault(map[string]string{"env": "prod", TagName(sid): TagValue(owned)}, before...)
		f, err := Fence(v, sid, []ipset.Set{owned})
		if err != nil || !f.Owned().Equal(owned) {
			t.Fatalf("%v %v", f, err)
		}
		var want []string
		for i := range rapid.IntRange(0, 20).Draw(t, "desired") {
			want = append(want, addr(t, fmt.Sprint("d", i)))
		}
		desired := ipset.MustParse(want...).Minus(ipset.Of(f.HeldByOthers()...))
		rules := f.Rules(desired)
		for i, o := range others {
			if rules[i].Value != o {
				t.Fatalf("rule %d is %q, was %q", i, rules[i].Value, o)
			}
		}
		acls, err := WithRules(v.Properties.NetworkACLs, rules)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(acls, &m)
		if m["bypass"] != "AzureServices" || m["defaultAction"] != "Deny" || len(m["virtualNetworkRules"].([]any)) != 1 {
			t.Fatalf("networkAcls lost a field: %s", acls)
		}
		after := Vault{Tags: f.Tags(sid, desired), Properties: Properties{NetworkACLs: acls}}
		back, err := Fence(after, sid, []ipset.Set{owned, desired})
		if err != nil || !back.Owned().Equal(desired) || !ipset.Of(back.HeldByOthers()...).Equal(ipset.MustParse(others...)) || after.Tags["env"] != "prod" {
			t.Fatalf("read back: owned %v want %v, err %v", back.Owned(), desired, err)
		}
		for _, r := range rules[len(others):] {
			if !strings.Contains(r.Value, "/") {
				t.Fatalf("rule %q without its length", r.Value)
			}
		}
	})
}
