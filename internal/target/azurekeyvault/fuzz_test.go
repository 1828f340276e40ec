package azurekeyvault

import (
	"encoding/json"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// A vault answer from Resource Manager is outside input: whatever it
// holds, reading it never panics, what ipsync owns is among its rules and
// one of the sets it wrote, and the rules a rewrite sends keep everybody
// else's.
func FuzzFence(f *testing.F) {
	f.Add([]byte(`{"tags":{"ipsync-s":"1 rules sha256:0000000000000000"},"properties":{"networkAcls":{"defaultAction":"Deny","ipRules":[{"value":"198.51.100.1"},{"value":"203.0.113.0/24"}]}}}`), "198.51.100.1/32")
	f.Add([]byte(`{"properties":{"networkAcls":null}}`), "")
	f.Add([]byte(`{"properties":{"networkAcls":{"ipRules":[{"value":"::1"}]}}}`), "192.0.2.1")
	f.Fuzz(func(t *testing.T, body []byte, written string) {
		var v Vault
		if json.Unmarshal(body, &v) != nil {
			return
		}
		w, err := ipset.Parse([]string{written})
		if err != nil {
			w = ipset.Set{}
		}
		fw, err := Fence(v, "s", []ipset.Set{w})
		if err != nil {
			return
		}
		if !fw.Owned().Minus(w).IsEmpty() {
			t.Fatalf("owns %v, wrote only %v", fw.Owned(), w)
		}
		acls, _ := v.ACLs()
		if n := len(fw.Rules(w)); n < len(acls.IPRules)-fw.Owned().Len() {
			t.Fatalf("a rewrite sends %d rules, fewer than the others' %d", n, len(acls.IPRules)-fw.Owned().Len())
		}
		if _, err := WithRules(v.Properties.NetworkACLs, fw.Rules(w)); err != nil {
			t.Fatalf("rules of a vault read could not be written back: %v", err)
		}
	})
}
