package ipset

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "1.2.3.4", want: "1.2.3.4/32"},
		{in: " 1.2.3.4/32 ", want: "1.2.3.4/32"},
		{in: "10.0.0.1/24", want: "10.0.0.0/24"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "2001:DB8::/32", want: "2001:db8::/32"},
		{in: "::ffff:1.2.3.4", want: "1.2.3.4/32"},
		{in: "::ffff:1.2.3.0/120", want: "1.2.3.0/24"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "", wantErr: true},
		{in: "1.2.3", wantErr: true},
		{in: "1.2.3.4/33", wantErr: true},
		{in: "256.1.1.1", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "example.com", wantErr: true},
		{in: "1.2.3.4/", wantErr: true},
		{in: "1.2.3.4/-1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrefix(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParsePrefix(%q) = %v, want error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrefix(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Fatalf("ParsePrefix(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseNamesTheBadValue(t *testing.T) {
	_, err := Parse([]string{"1.2.3.4", "1.2.3.999/32", "5.6.7.8"})
	if err == nil || !strings.Contains(err.Error(), `"1.2.3.999/32"`) {
		t.Fatalf("error %v does not name the bad value", err)
	}
}

func TestAggregateAndOrder(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, []string{}},
		{"siblings merge", []string{"10.0.0.0/25", "10.0.0.128/25"}, []string{"10.0.0.0/24"}},
		{"covered dropped", []string{"10.0.0.0/8", "10.1.2.3"}, []string{"10.0.0.0/8"}},
		{"duplicates", []string{"1.1.1.1", "1.1.1.1/32", "1.1.1.1"}, []string{"1.1.1.1/32"}},
		{"ipv4 before ipv6", []string{"2001:db8::1", "9.9.9.9", "1.1.1.1"}, []string{"1.1.1.1/32", "9.9.9.9/32", "2001:db8::1/128"}},
		{"non-adjacent stay", []string{"1.1.1.1", "1.1.1.3"}, []string{"1.1.1.1/32", "1.1.1.3/32"}},
		{"four hosts make a /30", []string{"1.1.1.0", "1.1.1.1", "1.1.1.2", "1.1.1.3"}, []string{"1.1.1.0/30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustParse(tt.in...).Strings()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDiffTable(t *testing.T) {
	a := MustParse("1.1.1.1", "2.2.2.0/24")
	b := MustParse("1.1.1.1", "2.2.2.0/25", "3.3.3.3")
	add, remove := Diff(a, b)
	if got := add.Strings(); !slices.Equal(got, []string{"3.3.3.3/32"}) {
		t.Errorf("add = %v", got)
	}
	if got := remove.Strings(); !slices.Equal(got, []string{"2.2.2.128/25"}) {
		t.Errorf("remove = %v", got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s := MustParse("2001:db8::/64", "1.2.3.4")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `["1.2.3.4/32","2001:db8::/64"]` {
		t.Fatalf("marshal = %s", b)
	}
	var back Set
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(s) {
		t.Fatalf("round trip = %v, %v", back, err)
	}
	empty, _ := json.Marshal(Set{})
	if string(empty) != "[]" {
		t.Fatalf("empty set marshals as %s, want []", empty)
	}
	if err := json.Unmarshal([]byte(`["1.2.3.4","nope"]`), &back); err == nil {
		t.Fatal("bad value accepted")
	}
}

// genPrefix draws prefixes from small pools so that overlaps, siblings and
// duplicates are frequent, in both families.
func genPrefix() *rapid.Generator[netip.Prefix] {
	return rapid.Custom(func(t *rapid.T) netip.Prefix {
		if rapid.Bool().Draw(t, "v6") {
			var a [16]byte
			a[0], a[1] = 0x20, 0x01
			a[15] = rapid.Byte().Draw(t, "b15")
			a[14] = rapid.ByteRange(0, 3).Draw(t, "b14")
			return netip.PrefixFrom(netip.AddrFrom16(a), rapid.IntRange(110, 128).Draw(t, "bits")).Masked()
		}
		a := [4]byte{10, 0, rapid.ByteRange(0, 3).Draw(t, "b2"), rapid.Byte().Draw(t, "b3")}
		return netip.PrefixFrom(netip.AddrFrom4(a), rapid.IntRange(20, 32).Draw(t, "bits")).Masked()
	})
}

func genSet() *rapid.Generator[[]netip.Prefix] {
	return rapid.SliceOfN(genPrefix(), 0, 40)
}

// addrCount is the exact number of addresses in a set, by family.
func addrCount(s Set) (v4, v6 *big.Int) {
	v4, v6 = new(big.Int), new(big.Int)
	for _, p := range s.prefixes {
		n := new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
		if p.Addr().Is4() {
			v4.Add(v4, n)
		} else {
			v6.Add(v6, n)
		}
	}
	return
}

func TestPropAggregateKeepsAddresses(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genSet().Draw(t, "in")
		s := Of(in...)
		// Every input prefix is inside the set, and every set prefix overlaps
		// some input: together with disjointness this is "same addresses".
		for _, p := range in {
			if !s.Intersect(Of(p)).Equal(Of(p)) {
				t.Fatalf("input %v lost from %v", p, s)
			}
		}
		inSet := Of(in...)
		if !s.Minus(inSet).IsEmpty() {
			t.Fatalf("aggregate added addresses")
		}
		// Minimal: no prefix overlaps another, and re-aggregating changes nothing.
		for i := range s.prefixes {
			for j := i + 1; j < len(s.prefixes); j++ {
				if s.prefixes[i].Overlaps(s.prefixes[j]) {
					t.Fatalf("prefixes %v and %v overlap", s.prefixes[i], s.prefixes[j])
				}
			}
		}
		// Order: IPv4 first, ascending.
		if !slices.IsSortedFunc(s.prefixes, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) }) {
			t.Fatalf("not sorted: %v", s)
		}
		// The address count equals the count of the union built one by one.
		v4a, v6a := addrCount(s)
		acc := Set{}
		for _, p := range in {
			acc = Union(acc, Of(p))
		}
		v4b, v6b := addrCount(acc)
		if v4a.Cmp(v4b) != 0 || v6a.Cmp(v6b) != 0 {
			t.Fatalf("address counts differ: %v/%v vs %v/%v", v4a, v6a, v4b, v6b)
		}
	})
}

func TestPropAggregateIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := Of(genSet().Draw(t, "in")...)
		again := Of(s.Prefixes()...)
		if !again.Equal(s) || !slices.Equal(again.Strings(), s.Strings()) {
			t.Fatalf("Of(Of(x)) = %v, want %v", again, s)
		}
		reparsed := MustParse(s.Strings()...)
		if !reparsed.Equal(s) {
			t.Fatalf("Parse(Strings(x)) = %v, want %v", reparsed, s)
		}
	})
}

func TestPropDiffApplies(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Of(genSet().Draw(t, "a")...)
		b := Of(genSet().Draw(t, "b")...)
		add, remove := Diff(a, b)
		got := Union(a.Minus(remove), add)
		if !got.Equal(b) {
			t.Fatalf("apply(diff(a,b), a) = %v, want %v (add %v remove %v)", got, b, add, remove)
		}
		if !add.Intersect(a).IsEmpty() || !remove.Intersect(b).IsEmpty() {
			t.Fatalf("diff not minimal: add %v remove %v", add, remove)
		}
		if a.Equal(b) != (add.IsEmpty() && remove.IsEmpty()) {
			t.Fatalf("equal sets must have an empty diff")
		}
	})
}

// random10k returns 10,000 random CIDRs, mostly IPv4 hosts, some ranges and IPv6,
// from a fixed seed so runs compare.
func random10k() []netip.Prefix {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]netip.Prefix, 10_000)
	for i := range out {
		if r.IntN(10) == 0 {
			var a [16]byte
			a[0], a[1] = 0x20, 0x01
			for j := 2; j < 16; j++ {
				a[j] = byte(r.UintN(256))
			}
			out[i] = netip.PrefixFrom(netip.AddrFrom16(a), 64+r.IntN(65)).Masked()
			continue
		}
		var a [4]byte
		for j := range a {
			a[j] = byte(r.UintN(256))
		}
		out[i] = netip.PrefixFrom(netip.AddrFrom4(a), 24+r.IntN(9)).Masked()
	}
	return out
}

func BenchmarkAggregate10k(b *testing.B) {
	in := random10k()
	b.ReportAllocs()
	for b.Loop() {
		if Of(in...).IsEmpty() {
			b.Fatal("empty")
		}
	}
}
