package target

import (
	"fmt"
	"net/netip"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// Ref is one target as its kind's adapter sees it: where the fence is and
// which part of it ipsync owns.
type Ref struct {
	Resource string
	Sid      string // the owned statement's Sid, or the managed entries' prefix
	Options  Options
	// Written, for a kind with RecordedOwnership, are the sets the snapshot
	// says ipsync wrote into the fence: the one the last run recorded
	// first (empty when none did), then those later runs were about to
	// write and did not record, oldest first. nil: nothing recorded.
	Written []ipset.Set
}

// Capacity is how much a fence can hold, in its service's unit.
type Capacity struct {
	Name string // for messages: "KMS key policy"
	Max  int
	Unit Unit
}

// Unit is what a capacity counts.
type Unit string

// Units.
const (
	Bytes      Unit = "bytes"
	Characters Unit = "characters"
	Entries    Unit = "entries"
	RuleCount  Unit = "rules"
)

// Fence is what reading a target found: the set its owned part allows, how
// full the fence is, and how to rewrite the owned part. A Fence is a value:
// the plan uses it without I/O.
type Fence interface {
	// Owned is what the owned part allows now.
	Owned() ipset.Set
	// Used is the fence's size as its service counts it now.
	Used() int
	// Capacity is the kind's limit for this fence; the loop may narrow it
	// (a limit shared with other documents) before planning again.
	Capacity() Capacity
	// Rewrite is the change that makes the owned part allow exactly
	// desired, or a *SizeError when the result would not fit room.
	Rewrite(desired ipset.Set, room Capacity) (Change, error)
	// Describe says what the owned part is, for ipsync doctor:
	// `statement "X" found, IpAddress aws:SourceIp with 3 prefix(es)`.
	Describe() string
	// Families are the address families the fence can carry; the plan
	// leaves the others out of it, and says so.
	Families() Families
	// HeldByOthers are the exact prefixes that parts of the fence ipsync
	// does not own hold for the target's traffic (another owner's rule or
	// entry), which the service refuses to hold twice: the plan adds
	// nothing for a desired prefix equal to one, and never touches them. A
	// broader part of another owner counts for nothing: it may go, and
	// ipsync's own rules must hold then.
	HeldByOthers() []netip.Prefix
}

// Families is a set of address families.
type Families uint8

// Address families.
const (
	IPv4 Families = 1 << iota
	IPv6
	BothFamilies = IPv4 | IPv6
)

// Carried splits s into what a fence of families f can carry and what it
// cannot.
func (f Families) Carried(s ipset.Set) (carried, left ipset.Set) {
	if f == BothFamilies {
		return s, ipset.Set{}
	}
	var all []ipset.Set
	if f&IPv4 != 0 {
		all = append(all, ipset.MustParse("0.0.0.0/0"))
	}
	if f&IPv6 != 0 {
		all = append(all, ipset.MustParse("::/0"))
	}
	carried = s.Intersect(ipset.Union(all...))
	return carried, s.Minus(carried)
}

// Change is what an adapter writes to make a fence's owned part hold Set.
type Change struct {
	Set  ipset.Set
	Size int    // the fence's size after the change, in its capacity's unit
	Form string // "indented" or "compact" for a document; "" for entries
	// Document is the whole policy to write, for the kinds that write one.
	Document []byte
	// Version is the fence's version the change was planned against, for
	// kinds whose service checks it (optimistic concurrency); "" otherwise.
	Version string
}

// SizeError is a change that does not fit the fence.
type SizeError struct {
	Capacity Capacity
	Size     int // a document's in its compact form
	// Detail, when set, is the whole message (a quota counted per family
	// and direction needs more words than a size).
	Detail string
}

func (e *SizeError) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Capacity.Unit == Entries || e.Capacity.Unit == RuleCount {
		return fmt.Sprintf("the %s would hold %d %s; the limit is %d", e.Capacity.Name, e.Size, e.Capacity.Unit, e.Capacity.Max)
	}
	return fmt.Sprintf("the %s would be %d %s even compact; the limit is %d", e.Capacity.Name, e.Size, e.Capacity.Unit, e.Capacity.Max)
}

// OpenToAll is a fence that can say which parts of other owners open the
// target's traffic to every address (0.0.0.0/0 or ::/0): ipsync doctor
// warns that ipsync's rules take effect only when those go.
type OpenToAll interface {
	OpenToAll() []string
}
