package admission

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
)

// specialRange is a special-purpose range no public service address is in.
type specialRange struct {
	Prefix netip.Prefix
	Rule   Rule
}

// special are IANA's IPv4 and IPv6 special-purpose ranges that are not
// globally reachable, and the IPv6 space outside global unicast
// (2000::/3), most specific first so that Judge names the narrowest. Built
// on first use: no work at package init.
var special = sync.OnceValue(func() []specialRange {
	return sortSpecial([]specialRange{
		{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},
		{netip.MustParsePrefix("10.0.0.0/8"), Private},
		{netip.MustParsePrefix("100.64.0.0/10"), Shared},
		{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
		{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal},
		{netip.MustParsePrefix("172.16.0.0/12"), Private},
		{netip.MustParsePrefix("192.0.0.0/24"), Reserved},
		{netip.MustParsePrefix("192.88.99.0/24"), Reserved},
		{netip.MustParsePrefix("192.168.0.0/16"), Private},
		{netip.MustParsePrefix("198.18.0.0/15"), Reserved},
		{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
		{netip.MustParsePrefix("240.0.0.0/4"), Reserved},
		{netip.MustParsePrefix("255.255.255.255/32"), Broadcast},

		{netip.MustParsePrefix("::/128"), Unspecified},
		{netip.MustParsePrefix("::1/128"), Loopback},
		{netip.MustParsePrefix("::ffff:0:0/96"), IPv4Mapped},
		{netip.MustParsePrefix("64:ff9b::/96"), Translation},
		{netip.MustParsePrefix("64:ff9b:1::/48"), Translation},
		{netip.MustParsePrefix("100::/64"), Discard},
		{netip.MustParsePrefix("2001::/23"), Reserved},
		{netip.MustParsePrefix("2002::/16"), Translation},
		{netip.MustParsePrefix("3fff::/20"), Reserved},
		{netip.MustParsePrefix("fc00::/7"), Private},
		{netip.MustParsePrefix("fe80::/10"), LinkLocal},
		{netip.MustParsePrefix("ff00::/8"), Multicast},
		// Outside 2000::/3, IPv6 holds no global unicast address.
		{netip.MustParsePrefix("::/3"), Reserved},
		{netip.MustParsePrefix("4000::/2"), Reserved},
		{netip.MustParsePrefix("8000::/1"), Reserved},
	})
})

// documentationRanges are admitted: examples and tests use them.
var documentationRanges = sync.OnceValue(func() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),    // RFC 5737 TEST-NET-1
		netip.MustParsePrefix("198.51.100.0/24"), // RFC 5737 TEST-NET-2
		netip.MustParsePrefix("203.0.113.0/24"),  // RFC 5737 TEST-NET-3
		netip.MustParsePrefix("2001:db8::/32"),   // RFC 3849
	}
})

func documentation(p netip.Prefix) bool {
	for _, d := range documentationRanges() {
		if d.Addr().Is4() == p.Addr().Is4() && d.Bits() <= p.Bits() && d.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func sortSpecial(rs []specialRange) []specialRange {
	slices.SortStableFunc(rs, func(a, b specialRange) int { return cmp.Compare(b.Prefix.Bits(), a.Prefix.Bits()) })
	return rs
}
