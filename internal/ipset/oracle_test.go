package ipset

import (
	"net/netip"
	"slices"
	"testing"

	"go4.org/netipx"
	"pgregory.net/rapid"
)

// oracle computes the same operations with netipx's IPSetBuilder, the
// well-kept implementation the linear sweeps must agree with.
func oracle(build func(b *netipx.IPSetBuilder)) []string {
	var b netipx.IPSetBuilder
	build(&b)
	s, _ := b.IPSet()
	var out []string
	for _, p := range s.Prefixes() {
		out = append(out, p.String())
	}
	return out
}

func builderOf(ps []netip.Prefix) *netipx.IPSet {
	var b netipx.IPSetBuilder
	for _, p := range ps {
		b.AddPrefix(p)
	}
	s, _ := b.IPSet()
	return s
}

// genEdgePrefix adds the family edges (0.0.0.0/x, 255.255.255.255, ::/x,
// ffff:…) to the usual pools, where off-by-one errors live.
func genEdgePrefix() *rapid.Generator[netip.Prefix] {
	return rapid.OneOf(genPrefix(), rapid.SampledFrom([]netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("255.255.255.255/32"), netip.MustParsePrefix("255.255.255.0/24"),
		netip.MustParsePrefix("0.0.0.0/32"), netip.MustParsePrefix("::/0"), netip.MustParsePrefix("::/128"),
		netip.MustParsePrefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), netip.MustParsePrefix("10.0.0.0/8"),
	}))
}

func TestPropSweepsMatchTheOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ap := rapid.SliceOfN(genEdgePrefix(), 0, 30).Draw(t, "a")
		bp := rapid.SliceOfN(genEdgePrefix(), 0, 30).Draw(t, "b")
		a, b := Of(ap...), Of(bp...)
		nonNil := func(s []string) []string {
			if s == nil {
				return []string{}
			}
			return s
		}
		check := func(op string, got Set, want []string) {
			if !slices.Equal(got.Strings(), nonNil(want)) {
				t.Fatalf("%s: got %v, want %v (a=%v b=%v)", op, got, want, a, b)
			}
		}
		check("Of", a, oracle(func(x *netipx.IPSetBuilder) { x.AddSet(builderOf(ap)) }))
		check("Union", Union(a, b), oracle(func(x *netipx.IPSetBuilder) { x.AddSet(builderOf(ap)); x.AddSet(builderOf(bp)) }))
		check("Minus", a.Minus(b), oracle(func(x *netipx.IPSetBuilder) { x.AddSet(builderOf(ap)); x.RemoveSet(builderOf(bp)) }))
		check("Intersect", a.Intersect(b), oracle(func(x *netipx.IPSetBuilder) { x.AddSet(builderOf(ap)); x.Intersect(builderOf(bp)) }))
		probe := genEdgePrefix().Draw(t, "probe").Addr()
		if a.ContainsAddr(probe) != builderOf(ap).Contains(probe) {
			t.Fatalf("ContainsAddr(%v) on %v", probe, a)
		}
	})
}
