package gcpaccesslevel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
)

// Level is an access level as the API writes it (the fields ipsync reads
// or writes; the rest of a condition is kept to be refused).
type Level struct {
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	Basic       *Basic          `json:"basic,omitempty"`
	Custom      *map[string]any `json:"custom,omitempty"`
}

// Basic is a basic level.
type Basic struct {
	CombiningFunction string      `json:"combiningFunction,omitempty"`
	Conditions        []Condition `json:"conditions"`
}

// Condition is one condition; only ipSubnetworks is ipsync's.
type Condition struct {
	IPSubnetworks        []string `json:"ipSubnetworks,omitempty"`
	Members              []string `json:"members,omitempty"`
	Negate               bool     `json:"negate,omitempty"`
	Regions              []string `json:"regions,omitempty"`
	RequiredAccessLevels []string `json:"requiredAccessLevels,omitempty"`
	DevicePolicy         any      `json:"devicePolicy,omitempty"`
	VPCNetworkSources    []any    `json:"vpcNetworkSources,omitempty"`
}

// only says the condition holds addresses and nothing else.
func (c Condition) only() bool {
	return len(c.Members) == 0 && !c.Negate && len(c.Regions) == 0 && len(c.RequiredAccessLevels) == 0 && c.DevicePolicy == nil && len(c.VPCNetworkSources) == 0
}

// Fence reads a level for the target whose sid its description starts
// with. A level of someone else, a custom level, or conditions that say
// more than which addresses may come in, are not ipsync's to rewrite.
func Fence(l Level, sid string) (target.Fence, error) {
	if !strings.HasPrefix(l.Description, sid) {
		return nil, &target.NotOwnedError{Err: fmt.Errorf("the access level's description %q does not start with %q: ipsync owns a whole basic level, and only one whose description says so; give ipsync a level of its own, with a description that starts with the target's sid", l.Description, sid)}
	}
	if l.Custom != nil || l.Basic == nil {
		return nil, &target.NotOwnedError{Err: errors.New("the access level is not a basic level: ipsync writes basic levels of IP subnetworks only")}
	}
	if l.Basic.CombiningFunction == "AND" && len(l.Basic.Conditions) > 1 {
		return nil, &target.NotOwnedError{Err: errors.New("the access level combines its conditions with AND: ipsync's layout is OR (any condition admits)")}
	}
	var cidrs []string
	for i, c := range l.Basic.Conditions {
		if !c.only() {
			return nil, &target.NotOwnedError{Err: fmt.Errorf("condition %d says more than ipSubnetworks (members, regions, device policy, negate, required levels or VPC sources): ipsync does not rewrite it", i)}
		}
		cidrs = append(cidrs, c.IPSubnetworks...)
	}
	set, err := ipset.Parse(cidrs)
	if err != nil {
		return nil, fmt.Errorf("access level %s: %w", l.Name, err)
	}
	return entries.New(entries.List{
		Managed: set, Count: len(cidrs), Limit: Capacity,
		Summary: fmt.Sprintf("basic level owned (description %q), %s in %s", l.Description, entries.Count(len(cidrs), "CIDR", "CIDRs"), entries.Count(len(l.Basic.Conditions), "condition", "conditions")),
	}), nil
}

// Layout is the conditions that hold set: its prefixes in order, 200 to a
// condition, so that the same set always gives the same level.
func Layout(set ipset.Set) ([]Condition, error) {
	cidrs := set.Strings()
	if len(cidrs) == 0 {
		return nil, errors.New("an access level cannot be empty (a basic level needs a condition, and a condition a value)")
	}
	if len(cidrs) > Capacity.Max {
		return nil, &target.SizeError{Capacity: Capacity, Size: len(cidrs)}
	}
	var out []Condition
	for len(cidrs) > 0 {
		n := min(PerCondition, len(cidrs))
		out = append(out, Condition{IPSubnetworks: cidrs[:n]})
		cidrs = cidrs[n:]
	}
	return out, nil
}
