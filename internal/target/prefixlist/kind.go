// Package prefixlist is the prefix-list kind: a customer-managed prefix
// list (which security groups, route tables and Network Firewall
// reference), of which ipsync owns the entries whose description starts
// with the target's sid. It carries one address family, the list's, and
// holds at most the list's MaxEntries, everybody's entries counted. The
// adapter (plio) talks to EC2.
package prefixlist

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
)

// Type is the kind's name in the config.
const Type target.Type = "prefix-list"

// MaxEntries is EC2's largest MaxEntries for a customer-managed list: the
// kind's capacity before a list is read.
const MaxEntries = 1000

// MaxPerModify is how many entries one ModifyManagedPrefixList adds or
// removes at most.
const MaxPerModify = 100

// Suffix follows the sid in the description of each entry ipsync writes.
const Suffix = " managed"

// Kind is the prefix-list kind.
type Kind struct{}

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "managed prefix list" }
func (Kind) Capacity() target.Capacity { return Capacity("", MaxEntries) }

// Capacity names a list's MaxEntries for messages.
func Capacity(id string, max int) target.Capacity {
	name := "prefix list"
	if id != "" {
		name += " " + id
	}
	return target.Capacity{Name: name, Max: max, Unit: target.Entries}
}

func (Kind) Words() target.Words {
	return target.Words{Part: "the managed entries", Plural: true, Updated: "The prefix list's managed entries were updated and verified.",
		Size: "prefix list", Others: "an entry ipsync does not own"}
}

func (Kind) CheckResource(r string) error {
	if ids.PrefixListID(r) {
		return nil
	}
	return errors.New("want a prefix list id (pl-…)")
}

func (Kind) Rules() target.Rules {
	// One target per list: each write names the version it read, and two
	// targets would take turns failing on each other's versions.
	// A list a KMS endpoint's security group references may guard
	// encryption at rest: a change is verified with Atlas, and rolled back
	// with a modify (moto answers RestoreManagedPrefixListVersion with 500).
	return target.Rules{MaxSid: 255 - len(Suffix), SidMeans: "the managed entries' description prefix", OnePerResource: true, EncryptionAtRest: true}
}

// Example: a list needs nothing added; ipsync adds its entries.
func (Kind) Example(string, []string) string { return "" }

// Entry is one entry of a list.
type Entry struct {
	CIDR        string
	Description string
}

// OwnedBy says the entry is the target's: its description starts with sid.
func (e Entry) OwnedBy(sid string) bool { return strings.HasPrefix(e.Description, sid) }

// List is what reading a prefix list found.
type List struct {
	ID         string
	Family     target.Families // the list's AddressFamily
	MaxEntries int
	Version    int64
	Entries    []Entry
}

// Fence reads a list for the target whose entries start with sid.
func Fence(l List, sid string) (target.Fence, error) {
	var owned []string
	var others []netip.Prefix
	for _, e := range l.Entries {
		if e.OwnedBy(sid) {
			owned = append(owned, e.CIDR)
			continue
		}
		p, err := ipset.ParsePrefix(e.CIDR)
		if err != nil {
			return nil, fmt.Errorf("prefix list %s: %w", l.ID, err)
		}
		others = append(others, p)
	}
	managed, err := ipset.Parse(owned)
	if err != nil {
		return nil, fmt.Errorf("prefix list %s: %w", l.ID, err)
	}
	fam := "IPv4"
	if l.Family == target.IPv6 {
		fam = "IPv6"
	}
	return entries.New(entries.List{
		Managed: managed, Count: len(owned), Others: len(others), OthersHold: others,
		Limit: Capacity(l.ID, l.MaxEntries), Version: fmt.Sprint(l.Version), Families: l.Family,
		Summary: fmt.Sprintf("%s managed (description prefix %q), %d of others; carries %s; version %d",
			entries.Count(len(owned), "entry", "entries"), sid, len(others), fam, l.Version),
		Advice: func(need int) string {
			return fmt.Sprintf("raise the list's MaxEntries to at least %d (ipsync does not resize a list: the security groups that reference it count MaxEntries against their own quota, and a resize can fail on them)", need)
		},
	}), nil
}
