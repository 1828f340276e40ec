package target

import (
	"fmt"
	"net/netip"
	"strings"

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

// Warner is a fence that knows what of it a person should hear from
// ipsync doctor: a part of another owner open to every address, a
// firewall whose rules do nothing, ownership found by the record alone.
type Warner interface {
	Warnings() []Warning
}

// Warning is one thing doctor says of a fence: its topic ("open",
// "firewall", "ownership") and a sentence.
type Warning struct {
	Topic, Detail string
}

// OpenWarnings is the warning for the parts of other owners that open the
// target's traffic to every address (0.0.0.0/0 or ::/0), if any.
func OpenWarnings(open []string) []Warning {
	if len(open) == 0 {
		return nil
	}
	return []Warning{{Topic: "open", Detail: "the fence is open: " + strings.Join(open, ", ") + " of another owner allows this traffic from every address; ipsync's rules take effect when that rule goes"}}
}

// KeyHome is a kind whose fences may hold the key Atlas encrypts a
// project's data with, where Atlas's encryption-at-rest answer names it:
// ipsync doctor asks it which resource that is, to check a target keeps
// that fence.
type KeyHome interface {
	// KeyResource is the resource Atlas's answer names, or "" when the
	// key is not in a fence of the kind.
	KeyResource(key AtlasKey) string
}

// AtlasKey is where Atlas says a project's key is: its provider's part of
// the encryption-at-rest answer ("azureKeyVault"), what doctor calls it
// ("azure key vault", "the vault"), its fields by name, and whether Atlas
// reaches it over private networking (so no IP rule matters).
type AtlasKey struct {
	Provider   string
	Name, Noun string
	Fields     map[string]string
	Private    bool
}
