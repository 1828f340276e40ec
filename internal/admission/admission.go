// Package admission decides which prefixes a source may give: public
// unicast, and no broader than guards.widestPrefix. Everything ipsync takes
// from outside (Atlas's answer, the NAT gateways') passes here before any
// other decision (docs/design.md "The trust boundary"). It does no I/O.
package admission

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// Rule names why a prefix is refused.
type Rule string

// Rules. Each but Broader names a special-purpose range (IANA's registries)
// that no service's public address is in.
const (
	Unspecified Rule = "unspecified"
	Loopback    Rule = "loopback"
	Private     Rule = "private"
	Shared      Rule = "shared-address-space" // RFC 6598, carrier-grade NAT
	LinkLocal   Rule = "link-local"
	Multicast   Rule = "multicast"
	Broadcast   Rule = "broadcast"
	Reserved    Rule = "reserved"
	IPv4Mapped  Rule = "ipv4-mapped"
	// Translation: an IPv6 prefix that stands for IPv4 addresses (NAT64,
	// 6to4): allowing it allows what it maps to.
	Translation Rule = "ipv4-translation"
	Discard     Rule = "discard-only"
	// Broader: public, but broader than guards.widestPrefix.
	Broader Rule = "broader"
)

// Widest is the broadest prefix a source may give, per family.
type Widest struct {
	IPv4 int `json:"ipv4"`
	IPv6 int `json:"ipv6"`
}

// DefaultWidest: Atlas publishes single addresses.
var DefaultWidest = Widest{IPv4: 24, IPv6: 48}

// The ranges config accepts for guards.widestPrefix; a person's static
// CIDRs are held to the same floor.
const (
	MinWidestIPv4 = 8
	MinWidestIPv6 = 16
)

// Check says what is wrong with w, naming the key, or nil.
func (w Widest) Check() error {
	var errs []string
	if w.IPv4 < MinWidestIPv4 || w.IPv4 > 32 {
		errs = append(errs, fmt.Sprintf("guards.widestPrefix.ipv4 %d: want %d to 32", w.IPv4, MinWidestIPv4))
	}
	if w.IPv6 < MinWidestIPv6 || w.IPv6 > 128 {
		errs = append(errs, fmt.Sprintf("guards.widestPrefix.ipv6 %d: want %d to 128", w.IPv6, MinWidestIPv6))
	}
	if errs == nil {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

func (w Widest) of(p netip.Prefix) int {
	if p.Addr().Is4() {
		return w.IPv4
	}
	return w.IPv6
}

// Verdict is one refused prefix: what it is, where it came from, and why.
type Verdict struct {
	Source string       `json:"source"`
	Prefix netip.Prefix `json:"prefix"`
	Rule   Rule         `json:"rule"`
	// Range is the special-purpose range the prefix lies in or holds;
	// WidestPrefix the limit a Broader prefix is past.
	Range        netip.Prefix `json:"range,omitzero"`
	WidestPrefix int          `json:"widestPrefix,omitempty"`
}

// String is the verdict for a person: "controlPlane.outbound.aws.us-east-1:
// 0.0.0.0/0 is broader than guards.widestPrefix (/24)".
func (v Verdict) String() string {
	if v.Source == "" {
		return v.Why()
	}
	return v.Source + ": " + v.Why()
}

// Why is the verdict without its source.
func (v Verdict) Why() string {
	p := v.Prefix.String()
	switch {
	case v.Rule == Broader:
		return fmt.Sprintf("%s is broader than guards.widestPrefix (/%d)", p, v.WidestPrefix)
	case v.Prefix == v.Range:
		return fmt.Sprintf("%s is %s range", p, article(v.Rule))
	case v.Range.Bits() > v.Prefix.Bits():
		return fmt.Sprintf("%s holds %s, %s range", p, v.Range, article(v.Rule))
	}
	return fmt.Sprintf("%s is in %s, %s range", p, v.Range, article(v.Rule))
}

func article(r Rule) string {
	switch r {
	case Unspecified, IPv4Mapped:
		return "an " + string(r)
	}
	return "a " + string(r)
}

// Public reports whether the verdict is about the kind of address (a
// special-purpose range) rather than the prefix's breadth.
func (v Verdict) Public() bool { return v.Rule != Broader }

// Judge returns why p may not be admitted, or ok. A prefix inside a
// special range is named by the most specific one; otherwise one broader
// than w is Broader; otherwise one that holds a special range is refused
// for it. The documentation ranges (RFC 5737, RFC 3849) are admitted.
func Judge(p netip.Prefix, w Widest) (v Verdict, ok bool) {
	p = p.Masked()
	if documentation(p) {
		if p.Bits() < w.of(p) {
			return Verdict{Prefix: p, Rule: Broader, WidestPrefix: w.of(p)}, false
		}
		return Verdict{}, true
	}
	for _, r := range special() { // most specific first
		if r.Prefix.Addr().Is4() == p.Addr().Is4() && r.Prefix.Bits() <= p.Bits() && r.Prefix.Contains(p.Addr()) {
			return Verdict{Prefix: p, Rule: r.Rule, Range: r.Prefix}, false
		}
	}
	if p.Bits() < w.of(p) {
		return Verdict{Prefix: p, Rule: Broader, WidestPrefix: w.of(p)}, false
	}
	for _, r := range special() {
		if r.Prefix.Addr().Is4() == p.Addr().Is4() && p.Contains(r.Prefix.Addr()) {
			return Verdict{Prefix: p, Rule: r.Rule, Range: r.Prefix}, false
		}
	}
	return Verdict{}, true
}

// Part is one named part of a source's answer.
type Part struct {
	Source string // "controlPlane.outbound.aws.us-east-1"
	Set    ipset.Set
}

// Refused judges every prefix of every part and returns the verdicts of
// those refused, in the parts' order.
func Refused(parts []Part, w Widest) []Verdict {
	var out []Verdict
	for _, part := range parts {
		for _, p := range part.Set.Prefixes() {
			if v, ok := Judge(p, w); !ok {
				v.Source = part.Source
				out = append(out, v)
			}
		}
	}
	return out
}

// Split divides s into the prefixes admitted and the verdicts of those
// refused (their Source empty).
func Split(s ipset.Set, w Widest) (admitted ipset.Set, refused []Verdict) {
	var keep []netip.Prefix
	for _, p := range s.Prefixes() {
		if v, ok := Judge(p, w); ok {
			keep = append(keep, p)
		} else {
			refused = append(refused, v)
		}
	}
	if refused == nil {
		return s, nil
	}
	return ipset.Of(keep...), refused
}

// Admitted is what of s Split admits.
func Admitted(s ipset.Set, w Widest) ipset.Set {
	a, _ := Split(s, w)
	return a
}
