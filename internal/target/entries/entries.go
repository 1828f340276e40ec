// Package entries is the Fence of the kinds whose fence is a list of
// entries, of which ipsync manages those it marked (an Atlas access list's
// entries whose comment starts with the target's prefix). Capacity counts
// entries: the managed ones and everybody else's.
package entries

import (
	"fmt"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Fence is a list's managed entries and how many entries it holds in all.
type Fence struct {
	managed ipset.Set
	count   int // managed entries (adjacent ones are one prefix in managed)
	others  int // everybody else's entries
	limit   target.Capacity
	marker  string
	version string
}

// New is a list whose count managed entries, marked with marker (a comment
// prefix), allow managed, beside others entries that are not ipsync's.
// version is the list's version when its service keeps one.
func New(managed ipset.Set, count, others int, limit target.Capacity, marker, version string) *Fence {
	return &Fence{managed: managed, count: count, others: others, limit: limit, marker: marker, version: version}
}

// Owned is what the managed entries allow.
func (f *Fence) Owned() ipset.Set { return f.managed }

// Used is the number of entries on the list.
func (f *Fence) Used() int { return f.count + f.others }

// Capacity is the list's limit of entries.
func (f *Fence) Capacity() target.Capacity { return f.limit }

// Rewrite is the change to managed entries equal to desired: one entry per
// prefix.
func (f *Fence) Rewrite(desired ipset.Set, room target.Capacity) (target.Change, error) {
	n := f.others + desired.Len()
	if n > room.Max {
		return target.Change{}, &target.SizeError{Capacity: room, Size: n}
	}
	return target.Change{Set: desired, Size: n, Version: f.version}, nil
}

// Describe counts the managed entries.
func (f *Fence) Describe() string {
	n := f.count
	word := "entries"
	if n == 1 {
		word = "entry"
	}
	return fmt.Sprintf("%d %s managed (comment prefix %q)", n, word, f.marker)
}

// Families: both.
func (f *Fence) Families() target.Families { return target.BothFamilies }
