package kinds_test

import (
	"slices"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// Every kind has a distinct name, a capacity, words for its owned part, and
// an example that, pasted into a policy, is a statement ipsync owns already
// holding the addresses.
func TestEveryKindIsComplete(t *testing.T) {
	seen := map[target.Type]bool{}
	for _, k := range kinds.All() {
		name := string(k.Type())
		if name == "" || seen[k.Type()] {
			t.Errorf("kind %q: empty or registered twice", name)
		}
		seen[k.Type()] = true
		if c := k.Capacity(); c.Max <= 0 || c.Name == "" || c.Unit == "" {
			t.Errorf("%s: capacity %+v", name, c)
		}
		if w := k.Words(); w.Part == "" || w.Updated == "" {
			t.Errorf("%s: words %+v", name, w)
		}
		if k.Noun() == "" || k.CheckResource("") == nil {
			t.Errorf("%s: noun %q, or an empty resource passes", name, k.Noun())
		}
		ex := k.Example("AtlasIPAllowList", []string{"3.92.113.229/32"})
		if ex == "" {
			continue // a kind ipsync fills itself (entries)
		}
		doc := `{"Version":"2012-10-17","Statement":[` + ex + `]}`
		c, err := policy.Read([]byte(doc), "AtlasIPAllowList")
		if err != nil || !slices.Equal(c.Values, []string{"3.92.113.229/32"}) {
			t.Errorf("%s example: %+v %v", name, c, err)
		}
	}
	if _, ok := kinds.All().Lookup("no-such-kind"); ok {
		t.Error("an unknown type has a kind")
	}
}
