// Package wafipset is the waf-ip-set kind: an AWS WAF IP set (in front of
// the webhook receiver, say), which ipsync owns whole when its description
// starts with the target's sid. It carries one address family, the set's
// IPAddressVersion. The adapter (wafio) talks to WAFv2.
package wafipset

import (
	"errors"
	"fmt"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
)

// Type is the kind's name in the config.
const Type target.Type = "waf-ip-set"

// Capacity is WAF's limit of addresses in one IP set.
var Capacity = target.Capacity{Name: "WAF IP set", Max: 10000, Unit: target.Entries}

// Kind is the waf-ip-set kind.
type Kind struct{}

func (Kind) Type() target.Type         { return Type }
func (Kind) Noun() string              { return "WAF IP set" }
func (Kind) Capacity() target.Capacity { return Capacity }

func (Kind) Words() target.Words {
	return target.Words{Part: "the IP set's addresses", Plural: true, Updated: "The WAF IP set was updated and verified.", Size: "IP set"}
}

func (Kind) CheckResource(r string) error {
	if _, ok := ids.WAFIPSetARN(r); ok {
		return nil
	}
	return errors.New("want an IP set ARN (arn:aws:wafv2:REGION:ACCOUNT:regional/ipset/NAME/ID, or global/ipset/… for CloudFront)")
}

func (Kind) Rules() target.Rules {
	// WAF refuses a description over 256 characters; one target per set:
	// it owns the set whole.
	return target.Rules{MaxSid: 256, SidMeans: "the start of the IP set's description", OnePerResource: true, NameFromResource: setName}
}

// Example: nothing to paste; the set's description says who owns it.
func (Kind) Example(string, []string) string { return "" }

// setName is a target's default name: the set's name, not its id.
func setName(arn string) string {
	if l, err := Locate(arn); err == nil {
		return l.Name
	}
	return arn[strings.LastIndex(arn, "/")+1:]
}

// Location is where an IP set is, from its ARN.
type Location struct {
	Scope string // REGIONAL or CLOUDFRONT
	Name  string
	ID    string
}

// Locate reads an IP set's ARN.
func Locate(arn string) (Location, error) {
	scope, ok := ids.WAFIPSetARN(arn)
	if !ok {
		return Location{}, fmt.Errorf("%q is not an IP set ARN", arn)
	}
	p := strings.Split(arn[strings.Index(arn, scope+"/ipset/"):], "/")
	l := Location{Scope: "REGIONAL", Name: p[2], ID: p[3]}
	if scope == "global" {
		l.Scope = "CLOUDFRONT"
	}
	return l, nil
}

// Set is what reading an IP set found.
type Set struct {
	ARN         string
	Description string
	Family      target.Families // IPV4 or IPV6
	Addresses   []string
	LockToken   string
}

// Fence is the set, owned whole when its description starts with sid; any
// other set is a *target.NotOwnedError.
func Fence(s Set, sid string) (target.Fence, error) {
	if !strings.HasPrefix(s.Description, sid) {
		return nil, &target.NotOwnedError{Err: fmt.Errorf("the IP set's description %q does not start with %q: ipsync owns a whole set, and only one whose description says so; give ipsync a set of its own, with a description that starts with the target's sid", s.Description, sid)}
	}
	set, err := ipset.Parse(s.Addresses)
	if err != nil {
		return nil, fmt.Errorf("IP set %s: %w", s.ARN, err)
	}
	fam := "IPV4"
	if s.Family == target.IPv6 {
		fam = "IPV6"
	}
	return entries.New(entries.List{
		Managed: set, Count: len(s.Addresses), Limit: Capacity, Version: s.LockToken, Families: s.Family,
		Summary: fmt.Sprintf("IP set owned (description %q), %s; carries %s", s.Description, entries.Count(len(s.Addresses), "address", "addresses"), fam),
	}), nil
}
