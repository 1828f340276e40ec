// Package entries is the Fence of the kinds whose fence is a list of
// entries, of which ipsync manages those it marked (an Atlas access list's
// entries whose comment starts with the target's prefix, a prefix list's
// entries whose description does) or the whole list (a WAF IP set).
// Capacity counts entries: the managed ones and everybody else's.
package entries

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// List is what reading a list found.
type List struct {
	Managed ipset.Set // what the managed entries allow
	Count   int       // managed entries (adjacent ones are one prefix in Managed)
	Others  int       // everybody else's entries
	// OthersHold are everybody else's entries' prefixes, exactly, when the
	// plan must not add an entry equal to one (a list that holds a CIDR
	// once); nil: the adapter deals with such an entry itself.
	OthersHold []netip.Prefix
	Limit      target.Capacity
	Marker     string // what marks a managed entry, for Describe
	Version    string // the list's version when its service keeps one
	// Families are what the list carries; zero: both.
	Families target.Families
	// Summary, when set, is Describe's answer.
	Summary string
	// Advice, when set, ends the message of a change that does not fit:
	// what to do, given the entries it needs.
	Advice func(need int) string
}

// Fence is a list's managed entries and how many entries it holds in all.
type Fence struct{ l List }

// New is the fence of a list.
func New(l List) *Fence {
	if l.Families == 0 {
		l.Families = target.BothFamilies
	}
	l.OthersHold = slices.SortedFunc(slices.Values(l.OthersHold), netip.Prefix.Compare)
	return &Fence{l: l}
}

// Owned is what the managed entries allow.
func (f *Fence) Owned() ipset.Set { return f.l.Managed }

// Used is the number of entries on the list.
func (f *Fence) Used() int { return f.l.Count + f.l.Others }

// Capacity is the list's limit of entries.
func (f *Fence) Capacity() target.Capacity { return f.l.Limit }

// Rewrite is the change to managed entries equal to desired: one entry per
// prefix.
func (f *Fence) Rewrite(desired ipset.Set, room target.Capacity) (target.Change, error) {
	n := f.l.Others + desired.Len()
	if n > room.Max {
		se := &target.SizeError{Capacity: room, Size: n}
		if f.l.Advice != nil {
			se.Detail = se.Error() + ": " + f.l.Advice(n)
		}
		return target.Change{}, se
	}
	return target.Change{Set: desired, Size: n, Version: f.l.Version}, nil
}

// Describe counts the managed entries.
func (f *Fence) Describe() string {
	if f.l.Summary != "" {
		return f.l.Summary
	}
	return fmt.Sprintf("%s managed (%s)", Count(f.l.Count, "entry", "entries"), f.l.Marker)
}

// Families are what the list carries.
func (f *Fence) Families() target.Families { return f.l.Families }

// HeldByOthers are everybody else's entries' prefixes.
func (f *Fence) HeldByOthers() []netip.Prefix { return f.l.OthersHold }

// Warnings: everybody else's entries that hold every address.
func (f *Fence) Warnings() []target.Warning { return target.OpenWarnings(f.OpenToAll()) }

// OpenToAll names everybody else's entries that hold every address.
func (f *Fence) OpenToAll() []string {
	var out []string
	for _, p := range f.l.OthersHold {
		if p.Bits() == 0 {
			out = append(out, "an entry of "+p.String())
		}
	}
	return out
}

// Count is "1 entry", "3 entries".
func Count(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
