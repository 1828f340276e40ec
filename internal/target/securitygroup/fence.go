package securitygroup

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// GroupRule is one rule of a group as EC2 describes it: one CIDR, or
// something else (a prefix list, another group), which counts against
// the quota all the same.
type GroupRule struct {
	ID          string
	Egress      bool
	Protocol    string
	From, To    int32
	CIDR        string // CidrIpv4 or CidrIpv6, canonical; "" for a non-CIDR rule
	IPv6        bool
	Description string
}

// Group is what reading a security group found, for one target.
type Group struct {
	ID    string
	Rule  Rule
	Sid   string
	Rules []GroupRule
}

// Owned says a rule is the target's: its traffic, its description.
func (g Group) Owned(r GroupRule) bool {
	return r.CIDR != "" && g.Rule.Same(r.Egress, r.Protocol, r.From, r.To) && strings.HasPrefix(r.Description, g.Sid)
}

// family counts, per address family, a direction's rules.
type family struct{ v4, v6 int }

func (f family) of(v6 bool) int {
	if v6 {
		return f.v6
	}
	return f.v4
}

// Fence is a group's owned rules and the counts its quota needs.
type Fence struct {
	g      Group
	owned  ipset.Set
	count  family // owned rules
	others family // the direction's other rules, anyone's
	held   []netip.Prefix
	open   []string
}

// NewFence reads a group for one target. A CIDR that does not parse is an
// error: EC2 never answers one, so the answer is not to be trusted.
func NewFence(g Group) (*Fence, error) {
	f := &Fence{g: g}
	var owned []string
	for _, r := range g.Rules {
		if r.Egress != g.Rule.Egress {
			continue
		}
		if g.Owned(r) {
			owned = append(owned, r.CIDR)
			f.count.add(r.IPv6)
			continue
		}
		f.others.add(r.IPv6)
		if err := f.other(r); err != nil {
			return nil, err
		}
	}
	var err error
	if f.owned, err = ipset.Parse(owned); err != nil {
		return nil, fmt.Errorf("security group %s: %w", g.ID, err)
	}
	slices.SortFunc(f.held, netip.Prefix.Compare)
	return f, nil
}

func (f *family) add(v6 bool) {
	if v6 {
		f.v6++
	} else {
		f.v4++
	}
}

// Owned is what the owned rules allow.
func (f *Fence) Owned() ipset.Set { return f.owned }

// Used is the fuller family's count of the direction's rules.
func (f *Fence) Used() int {
	return max(f.count.v4+f.others.v4, f.count.v6+f.others.v6)
}

// Capacity is the group's quota per direction and family.
func (f *Fence) Capacity() target.Capacity { return Capacity(f.g.ID, f.g.Rule.Quota) }

// Families: both, each in its own range list.
func (f *Fence) Families() target.Families { return target.BothFamilies }

// other notes a rule of another owner: one for exactly the target's
// traffic holds its CIDR (EC2 refuses the same rule twice); one that
// allows at least that traffic to every address opens the fence.
func (f *Fence) other(r GroupRule) error {
	if r.CIDR == "" {
		return nil
	}
	p, err := ipset.ParsePrefix(r.CIDR)
	if err != nil {
		return fmt.Errorf("security group %s: %w", f.g.ID, err)
	}
	if f.g.Rule.Same(r.Egress, r.Protocol, r.From, r.To) {
		f.held = append(f.held, p)
	}
	if p.Bits() == 0 && f.g.Rule.Covers(r.Egress, r.Protocol, r.From, r.To) {
		f.open = append(f.open, fmt.Sprintf("rule %s (%s to %s)", r.ID, describe(r), p))
	}
	return nil
}

// HeldByOthers are the other rules' CIDRs for exactly the target's traffic.
func (f *Fence) HeldByOthers() []netip.Prefix { return f.held }

// OpenToAll names the other rules that open the target's traffic to
// every address.
func (f *Fence) OpenToAll() []string { return f.open }

// Warnings: the other rules open to every address.
func (f *Fence) Warnings() []target.Warning { return target.OpenWarnings(f.open) }

// describe is a rule's traffic: "all traffic", "tcp 0-65535".
func describe(r GroupRule) string {
	switch {
	case r.Protocol == "-1":
		return "all traffic"
	case r.From == -1:
		return r.Protocol
	}
	return fmt.Sprintf("%s %d-%d", r.Protocol, r.From, r.To)
}

// Rewrite is one rule per prefix of desired. EC2 checks the quota at each
// authorize, and ipsync authorizes before it revokes, so the peak (every
// rule now and every addition) must fit, per family.
func (f *Fence) Rewrite(desired ipset.Set, room target.Capacity) (target.Change, error) {
	have := map[string]bool{}
	for _, p := range f.owned.Strings() {
		have[p] = true
	}
	var add, final family
	for _, p := range desired.Strings() {
		v6 := isV6(p)
		final.add(v6)
		if !have[p] {
			add.add(v6)
		}
	}
	for _, v6 := range []bool{false, true} {
		now := f.count.of(v6) + f.others.of(v6)
		if peak := now + add.of(v6); peak > room.Max {
			fam := map[bool]string{false: "IPv4", true: "IPv6"}[v6]
			return target.Change{}, &target.SizeError{Capacity: room, Size: peak, Detail: fmt.Sprintf(
				"the %s would need %d %s %s rules at its peak (%d now + %d added before %d are removed), over its quota of %d per direction and family: raise the quota and set maxRules, or allow a prefix list (a prefix-list target) in one rule instead",
				room.Name, peak, f.g.Rule.dir(), fam, now, add.of(v6), f.count.of(v6)-(final.of(v6)-add.of(v6)), room.Max)}
		}
	}
	size := max(final.v4+f.others.v4, final.v6+f.others.v6)
	return target.Change{Set: desired, Size: size}, nil
}

func isV6(prefix string) bool { return strings.Contains(prefix, ":") }

func (r Rule) dir() string {
	if r.Egress {
		return "egress"
	}
	return "ingress"
}

// Describe counts the owned rules and says which traffic they allow.
func (f *Fence) Describe() string {
	return fmt.Sprintf("%d owned %s rule(s) (description prefix %q): %d IPv4, %d IPv6; %d IPv4 and %d IPv6 rules of others in that direction",
		f.count.v4+f.count.v6, f.g.Rule, f.g.Sid, f.count.v4, f.count.v6, f.others.v4, f.others.v6)
}
