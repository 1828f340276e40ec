package reconciler

import (
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// The registry of kinds (internal/target/kinds, which config links without
// any service) and the table of adapter builders here are kept side by
// side: a kind without an adapter, or an adapter of no kind, fails this
// test rather than a run.
func TestEveryKindHasAnAdapter(t *testing.T) {
	builders := adapters()
	for _, k := range kinds.All() {
		if _, ok := builders[k.Type()]; !ok {
			t.Errorf("kind %s has no adapter builder in adapters()", k.Type())
		}
	}
	for typ := range builders {
		if _, ok := kinds.All().Lookup(typ); !ok {
			t.Errorf("adapters() builds %s, which internal/target/kinds does not register", typ)
		}
	}
	if len(builders) != len(kinds.All()) {
		t.Errorf("%d builders for %d kinds", len(builders), len(kinds.All()))
	}
}
