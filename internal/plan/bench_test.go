package plan

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
)

// BenchmarkPlan10kx100 plans 100 targets whose sources give 10,000 CIDRs
// each and whose live policies hold half of them: desired set, diff, guards,
// rewrite and render (which refuses: 10,000 entries exceed every limit, but
// only after rendering both forms, the most expensive path).
func BenchmarkPlan10kx100(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 9))
	prefixes := make([]netip.Prefix, 10_000)
	for i := range prefixes {
		a := [4]byte{byte(1 + r.UintN(222)), byte(r.UintN(256)), byte(r.UintN(256)), byte(r.UintN(256))}
		prefixes[i] = netip.PrefixFrom(netip.AddrFrom4(a), 24+r.IntN(9)).Masked()
	}
	source := ipset.Of(prefixes...)
	half := ipset.Of(prefixes[:5000]...)
	live := livePolicy(half.Strings()...)
	inputs := make([]Input, 100)
	for i := range inputs {
		inputs[i] = Input{
			Target:     Target{Name: fmt.Sprintf("t%d", i), Type: "kms-key-policy", Resource: "k", Sid: "AtlasIPAllowList"},
			Source:     source,
			HasSources: true,
			Record:     &Record{Source: source, Written: half},
			Live:       live,
			Kind:       kmspolicy.Kind{},
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p := Build(inputs, guards, now)
		if len(p.Targets) != 100 || p.Targets[0].Add.Len() == 0 {
			b.Fatalf("unexpected plan: %s", p.Status)
		}
	}
}
