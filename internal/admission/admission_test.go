package admission

import (
	"net/netip"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		in   string
		rule Rule // "" admitted
		says string
	}{
		{in: "52.1.2.3/32"},
		{in: "52.1.2.0/24"},
		{in: "2600:1f18::/48"},
		{in: "2600:1f18::1/128"},
		{in: "192.0.2.7/32"}, // RFC 5737
		{in: "198.51.100.0/24"},
		{in: "203.0.113.9/32"},
		{in: "2001:db8::1/128"}, // RFC 3849
		{in: "0.0.0.0/0", rule: Broader, says: "0.0.0.0/0 is broader than guards.widestPrefix (/24)"},
		{in: "::/0", rule: Broader, says: "::/0 is broader than guards.widestPrefix (/48)"},
		{in: "0.0.0.0/1", rule: Broader},
		{in: "52.0.0.0/8", rule: Broader},
		{in: "52.0.0.0/23", rule: Broader},
		{in: "2600::/32", rule: Broader},
		{in: "2001:db8::/32", rule: Broader},
		{in: "10.0.0.0/8", rule: Private, says: "10.0.0.0/8 is a private range"},
		{in: "192.168.1.20/32", rule: Private, says: "192.168.1.20/32 is in 192.168.0.0/16, a private range"},
		{in: "172.16.5.0/24", rule: Private},
		{in: "127.0.0.1/32", rule: Loopback},
		{in: "0.0.0.0/32", rule: Unspecified, says: "0.0.0.0/32 is in 0.0.0.0/8, an unspecified range"},
		{in: "100.64.1.1/32", rule: Shared},
		{in: "169.254.169.254/32", rule: LinkLocal},
		{in: "224.0.0.1/32", rule: Multicast},
		{in: "240.1.2.3/32", rule: Reserved},
		{in: "255.255.255.255/32", rule: Broadcast},
		{in: "198.18.0.1/32", rule: Reserved},
		{in: "192.0.0.8/32", rule: Reserved},
		{in: "192.88.99.1/32", rule: Reserved},
		{in: "::/128", rule: Unspecified},
		{in: "::1/128", rule: Loopback},
		{in: "fd00::1/128", rule: Private},
		{in: "fe80::1/128", rule: LinkLocal},
		{in: "ff02::1/128", rule: Multicast},
		{in: "::ffff:0:0/96", rule: IPv4Mapped},
		{in: "64:ff9b::808:808/128", rule: Translation},
		{in: "2002:c000:204::/48", rule: Translation},
		{in: "2001::1/128", rule: Reserved},
		{in: "100::1/128", rule: Discard},
		{in: "4000::1/128", rule: Reserved},
		{in: "3fff::1/128", rule: Reserved},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, ok := Judge(netip.MustParsePrefix(tt.in), DefaultWidest)
			if ok != (tt.rule == "") || v.Rule != tt.rule {
				t.Fatalf("Judge(%s) = %+v, %v; want rule %q", tt.in, v, ok, tt.rule)
			}
			if tt.says != "" && v.Why() != tt.says {
				t.Fatalf("Judge(%s) says %q, want %q", tt.in, v.Why(), tt.says)
			}
		})
	}
}

func TestAWideningLimitStillRefusesWhatHoldsASpecialRange(t *testing.T) {
	w := Widest{IPv4: 8, IPv6: 16}
	v, ok := Judge(netip.MustParsePrefix("100.0.0.0/8"), w)
	if ok || v.Rule != Shared || v.Why() != "100.0.0.0/8 holds 100.64.0.0/10, a shared-address-space range" {
		t.Fatalf("Judge(100.0.0.0/8) = %+v (%q), %v", v, v.Why(), ok)
	}
	if _, ok := Judge(netip.MustParsePrefix("52.0.0.0/8"), w); !ok {
		t.Fatal("52.0.0.0/8 refused at widest /8")
	}
}

func TestRefusedNamesTheSource(t *testing.T) {
	got := Refused([]Part{
		{Source: "controlPlane.outbound.aws.us-east-1", Set: ipset.MustParse("52.1.2.3", "0.0.0.0/0")},
		{Source: "project 5aec7afbf7d068e35a39809b cluster prod inbound", Set: ipset.MustParse("10.0.0.0/8")},
	}, DefaultWidest)
	var says []string
	for _, v := range got {
		says = append(says, v.String())
	}
	want := []string{
		"controlPlane.outbound.aws.us-east-1: 0.0.0.0/0 is broader than guards.widestPrefix (/24)",
		"project 5aec7afbf7d068e35a39809b cluster prod inbound: 10.0.0.0/8 is a private range",
	}
	if strings.Join(says, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(says, "\n"), strings.Join(want, "\n"))
	}
}

func TestWidestCheck(t *testing.T) {
	for _, w := range []Widest{{7, 48}, {33, 48}, {24, 15}, {24, 129}} {
		if err := w.Check(); err == nil || !strings.Contains(err.Error(), "guards.widestPrefix.") {
			t.Errorf("%+v: %v", w, err)
		}
	}
	for _, w := range []Widest{DefaultWidest, {8, 16}, {32, 128}} {
		if err := w.Check(); err != nil {
			t.Errorf("%+v: %v", w, err)
		}
	}
}

// anchors are the neighbourhoods genPrefix draws from: every special and
// documentation range, and some public space of each family.
var anchors = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "52.0.0.0/8", "0.0.0.0/0",
	"::/120", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
	"2001:db8::/32", "2002::/16", "3fff::/20", "fc00::/7", "fe80::/10", "ff00::/8",
	"2600::/12", "4000::/2", "::/0",
}

// genPrefix draws a prefix of either family near a special range, so that
// both verdicts and every rule are common: an address inside an anchor,
// then any length.
func genPrefix(t *rapid.T) netip.Prefix {
	anchor := netip.MustParsePrefix(rapid.SampledFrom(anchors).Draw(t, "anchor"))
	b := anchor.Addr().AsSlice()
	for i := anchor.Bits(); i < len(b)*8; i++ {
		if rapid.Bool().Draw(t, "bit") {
			b[i/8] |= 1 << (7 - i%8)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, rapid.IntRange(0, a.BitLen()).Draw(t, "bits")).Masked()
}

// oracle is an independent reading of "public unicast" for one address,
// from netip's own predicates and IANA's registries written out again.
func oracle(a netip.Addr) bool {
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	in := func(cidrs ...string) bool {
		for _, c := range cidrs {
			if netip.MustParsePrefix(c).Contains(a) {
				return true
			}
		}
		return false
	}
	if in("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32") {
		return true
	}
	if a.Is4() {
		return !in("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.88.99.0/24", "198.18.0.0/15", "240.0.0.0/4")
	}
	return in("2000::/3") && !in("2001::/23", "2002::/16", "3fff::/20")
}

// An admitted prefix is narrow enough and every address in it is public;
// a refused one is either too broad or holds an address that is not.
func TestPropJudgeAgreesWithTheOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPrefix(t)
		w := Widest{IPv4: rapid.IntRange(MinWidestIPv4, 32).Draw(t, "w4"), IPv6: rapid.IntRange(MinWidestIPv6, 128).Draw(t, "w6")}
		v, ok := Judge(p, w)
		first, last := p.Masked().Addr(), lastAddr(p)
		allPublic := oracle(first) && oracle(last) && oracle(mid(p))
		if ok {
			if p.Bits() < w.of(p) {
				t.Fatalf("%s admitted at widest %+v", p, w)
			}
			if !allPublic {
				t.Fatalf("%s admitted, but the oracle refuses one of %s %s %s", p, first, mid(p), last)
			}
			// Narrowing never makes a prefix worse.
			if sub := netip.PrefixFrom(last, p.Addr().BitLen()); !mustOK(Judge(sub, w)) {
				t.Fatalf("%s admitted but its address %s is not", p, last)
			}
			return
		}
		if v.Rule == Broader {
			if p.Bits() >= w.of(p) {
				t.Fatalf("%s broader than %+v?", p, w)
			}
			return
		}
		if !p.Contains(v.Range.Addr()) && !v.Range.Contains(p.Addr()) {
			t.Fatalf("%s refused for %s, which it does not overlap", p, v.Range)
		}
		if v.Range.Bits() <= p.Bits() && oracle(p.Addr()) {
			t.Fatalf("%s refused as %s (%s), but the oracle admits %s", p, v.Rule, v.Range, p.Addr())
		}
	})
}

// Split loses nothing and adds nothing.
func TestPropSplitPartitions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 8).Draw(t, "n")
		var ps []netip.Prefix
		for range n {
			ps = append(ps, genPrefix(t))
		}
		s := ipset.Of(ps...)
		admitted, refused := Split(s, DefaultWidest)
		var back []netip.Prefix
		for _, v := range refused {
			back = append(back, v.Prefix)
		}
		rs := ipset.Of(back...)
		if !ipset.Union(admitted, rs).Equal(s) || !admitted.Intersect(rs).IsEmpty() {
			t.Fatalf("Split(%s) = %s + %s", s, admitted, rs)
		}
		for _, p := range admitted.Prefixes() {
			if !mustOK(Judge(p, DefaultWidest)) {
				t.Fatalf("Split admitted %s, which Judge refuses", p)
			}
		}
	})
}

func mustOK(_ Verdict, ok bool) bool { return ok }

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func mid(p netip.Prefix) netip.Addr {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr()
	}
	b := p.Masked().Addr().AsSlice()
	b[p.Bits()/8] |= 1 << (7 - p.Bits()%8)
	a, _ := netip.AddrFromSlice(b)
	return a
}
