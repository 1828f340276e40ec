// Package ipset parses, normalises, aggregates and diffs sets of IP prefixes.
//
// A Set is always minimal (no prefix covered by another, no two siblings that
// could merge) and ordered: IPv4 before IPv6, then by address. Two Sets hold
// the same addresses if and only if they are Equal, whatever spelling the
// input used ("1.2.3.4" and "1.2.3.4/32" are one address).
package ipset

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"
)

// Set is an immutable, minimal set of IP prefixes. The zero value is empty.
//
// Internally it is a sorted list of disjoint, non-adjacent ranges, so that
// union, difference and intersection are linear sweeps; the minimal prefixes
// are derived once, when the set is made.
type Set struct {
	ranges   []netipx.IPRange
	prefixes []netip.Prefix
}

// ParsePrefix reads one IP or CIDR. A bare address means a single host
// (/32 or /128). Host bits beyond the prefix length are cleared, IPv4-mapped
// IPv6 addresses become IPv4, and zones are refused: a policy condition cannot
// hold them.
func ParsePrefix(s string) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	var p netip.Prefix
	if strings.Contains(t, "/") {
		var err error
		p, err = netip.ParsePrefix(t)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
	} else {
		a, err := netip.ParseAddr(t)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has a zone, which a policy cannot hold", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// Parse reads a list of IPs and CIDRs into a Set. One bad value fails the
// whole list, and the error names it.
func Parse(values []string) (Set, error) {
	ps := make([]netip.Prefix, 0, len(values))
	for _, v := range values {
		p, err := ParsePrefix(v)
		if err != nil {
			return Set{}, err
		}
		ps = append(ps, p)
	}
	return Of(ps...), nil
}

// MustParse is Parse for literals in tests and examples; it panics on bad input.
func MustParse(values ...string) Set {
	s, err := Parse(values)
	if err != nil {
		panic(err)
	}
	return s
}

// Of aggregates prefixes into a minimal Set. Invalid prefixes are ignored.
func Of(prefixes ...netip.Prefix) Set {
	rs := make([]netipx.IPRange, 0, len(prefixes))
	for _, p := range prefixes {
		if p.IsValid() {
			rs = append(rs, netipx.RangeOfPrefix(p.Masked()))
		}
	}
	return fromRanges(normalize(rs))
}

// normalize sorts ranges and merges overlapping and adjacent ones.
func normalize(rs []netipx.IPRange) []netipx.IPRange {
	if len(rs) == 0 {
		return nil
	}
	slices.SortFunc(rs, func(a, b netipx.IPRange) int { return a.From().Compare(b.From()) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if next := last.To().Next(); next.IsValid() && r.From().Compare(next) <= 0 && r.From().BitLen() == next.BitLen() {
			if r.To().Compare(last.To()) > 0 {
				*last = netipx.IPRangeFrom(last.From(), r.To())
			}
			continue
		}
		if r.From().Compare(last.To()) <= 0 && r.From().BitLen() == last.To().BitLen() {
			continue // inside last, which ends at the family's highest address
		}
		out = append(out, r)
	}
	return out
}

// fromRanges makes a Set of sorted, disjoint, non-adjacent ranges.
func fromRanges(rs []netipx.IPRange) Set {
	if len(rs) == 0 {
		return Set{}
	}
	var ps []netip.Prefix
	for _, r := range rs {
		ps = r.AppendPrefixes(ps)
	}
	return Set{ranges: rs, prefixes: ps}
}

// Union returns the addresses in any of the sets.
func Union(sets ...Set) Set {
	nonEmpty := 0
	var only Set
	n := 0
	for _, s := range sets {
		if !s.IsEmpty() {
			nonEmpty++
			only = s
			n += len(s.ranges)
		}
	}
	if nonEmpty <= 1 {
		return only // a Set is immutable: sharing it is safe
	}
	rs := make([]netipx.IPRange, 0, n)
	for _, s := range sets {
		rs = append(rs, s.ranges...)
	}
	return fromRanges(normalize(rs))
}

// Minus returns the addresses of s that are not in o, in one sweep.
func (s Set) Minus(o Set) Set {
	if s.IsEmpty() || o.IsEmpty() {
		return s
	}
	var out []netipx.IPRange
	b := o.ranges
	j := 0
	for _, r := range s.ranges {
		from, to := r.From(), r.To()
		for j < len(b) && b[j].To().Less(from) {
			j++
		}
		whole := true
		for k := j; k < len(b) && !to.Less(b[k].From()); k++ {
			if from.Less(b[k].From()) {
				out = append(out, netipx.IPRangeFrom(from, b[k].From().Prev()))
			}
			if !b[k].To().Less(to) {
				whole = false // the rest of r is removed
				break
			}
			from = b[k].To().Next()
		}
		if whole {
			out = append(out, netipx.IPRangeFrom(from, to))
		}
	}
	return fromRanges(out)
}

// Intersect returns the addresses in both s and o, in one sweep.
func (s Set) Intersect(o Set) Set {
	var out []netipx.IPRange
	a, b := s.ranges, o.ranges
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := a[i].From(), a[i].To()
		if b[j].From().Compare(lo) > 0 {
			lo = b[j].From()
		}
		if b[j].To().Compare(hi) < 0 {
			hi = b[j].To()
		}
		if lo.BitLen() == hi.BitLen() && !hi.Less(lo) {
			out = append(out, netipx.IPRangeFrom(lo, hi))
		}
		if a[i].To().Less(b[j].To()) {
			i++
		} else {
			j++
		}
	}
	return fromRanges(out)
}

// Diff returns what to add to a and what to remove from it to get b:
// a.Minus(remove) ∪ add equals b.
func Diff(a, b Set) (add, remove Set) {
	return b.Minus(a), a.Minus(b)
}

// Prefixes returns the minimal prefixes, IPv4 first, in address order.
// The slice is a copy.
func (s Set) Prefixes() []netip.Prefix {
	return append([]netip.Prefix(nil), s.prefixes...)
}

// Strings returns the prefixes as CIDR strings, in Set order.
func (s Set) Strings() []string {
	out := make([]string, len(s.prefixes))
	for i, p := range s.prefixes {
		out[i] = p.String()
	}
	return out
}

// Len is the number of prefixes in the minimal form (not the number of addresses).
func (s Set) Len() int { return len(s.prefixes) }

// IsEmpty reports whether the set holds no address.
func (s Set) IsEmpty() bool { return len(s.prefixes) == 0 }

// Equal reports whether both sets hold exactly the same addresses.
func (s Set) Equal(o Set) bool {
	if len(s.prefixes) != len(o.prefixes) {
		return false
	}
	for i := range s.prefixes {
		if s.prefixes[i] != o.prefixes[i] {
			return false
		}
	}
	return true
}

// ContainsAddr reports whether a is in the set.
func (s Set) ContainsAddr(a netip.Addr) bool {
	a = a.Unmap()
	i, _ := slices.BinarySearchFunc(s.ranges, a, func(r netipx.IPRange, a netip.Addr) int { return r.To().Compare(a) })
	return i < len(s.ranges) && s.ranges[i].Contains(a)
}

// String is a readable form for logs and test failures.
func (s Set) String() string { return "[" + strings.Join(s.Strings(), " ") + "]" }

// MarshalJSON writes the set as a JSON array of CIDR strings (never null).
func (s Set) MarshalJSON() ([]byte, error) { return json.Marshal(s.Strings()) }

// UnmarshalJSON reads a JSON array of IPs or CIDRs, strictly.
func (s *Set) UnmarshalJSON(b []byte) error {
	var vs []string
	if err := json.Unmarshal(b, &vs); err != nil {
		return fmt.Errorf("ip set: %w", err)
	}
	out, err := Parse(vs)
	if err != nil {
		return err
	}
	*s = out
	return nil
}

// Count is the number of addresses in the set, as a float: IPv6 sets can
// exceed any integer type, and the guards only need ratios.
func (s Set) Count() float64 {
	n := 0.0
	for _, p := range s.prefixes {
		n += math.Exp2(float64(p.Addr().BitLen() - p.Bits()))
	}
	return n
}
