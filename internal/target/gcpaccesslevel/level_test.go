package gcpaccesslevel

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestCheckResource(t *testing.T) {
	for r, ok := range map[string]bool{
		"accessPolicies/123456789/accessLevels/atlas_ip_sync": true, "accessPolicies/1/accessLevels/a": true,
		"accessPolicies/x/accessLevels/a": false, "accessPolicies/1/accessLevels/1a": false, "accessPolicies/1/accessLevels/a-b": false,
		"accessPolicies/1/servicePerimeters/a": false, "accessPolicies/1/accessLevels/a/b": false,
	} {
		if err := (Kind{}).CheckResource(r); (err == nil) != ok {
			t.Errorf("%s: %v", r, err)
		}
	}
}

func TestFenceRefusesWhatIsNotIpsyncs(t *testing.T) {
	basic := &Basic{CombiningFunction: "OR", Conditions: []Condition{{IPSubnetworks: []string{"192.0.2.1/32", "2001:db8::/64"}}}}
	f, err := Fence(Level{Name: "l", Description: "atlas-ip-sync: Atlas", Basic: basic}, "atlas-ip-sync")
	if err != nil || f.Owned().String() != "[192.0.2.1/32 2001:db8::/64]" || f.Families() != target.BothFamilies {
		t.Fatalf("%v %v", f, err)
	}
	custom := map[string]any{"expr": map[string]any{"expression": "true"}}
	for name, l := range map[string]Level{
		"someone else's": {Description: "team level", Basic: basic},
		"custom":         {Description: "atlas-ip-sync", Custom: &custom},
		"AND":            {Description: "atlas-ip-sync", Basic: &Basic{CombiningFunction: "AND", Conditions: []Condition{{IPSubnetworks: []string{"192.0.2.1/32"}}, {IPSubnetworks: []string{"192.0.2.2/32"}}}}},
		"regions":        {Description: "atlas-ip-sync", Basic: &Basic{Conditions: []Condition{{IPSubnetworks: []string{"192.0.2.1/32"}, Regions: []string{"US"}}}}},
	} {
		var no *target.NotOwnedError
		if _, err := Fence(l, "atlas-ip-sync"); !errors.As(err, &no) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Property: the layout holds exactly the set, at most 200 CIDRs a
// condition, in as few conditions as that allows, the same for the same set.
func TestLayout(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 1200).Draw(t, "n")
		var cidrs []string
		for i := range n {
			cidrs = append(cidrs, fmt.Sprintf("10.%d.%d.0/24", (2*i)/256, (2*i)%256))
		}
		set := ipset.MustParse(cidrs...)
		conds, err := Layout(set)
		if err != nil {
			t.Fatal(err)
		}
		var back []string
		for _, c := range conds {
			if len(c.IPSubnetworks) > PerCondition || len(c.IPSubnetworks) == 0 {
				t.Fatalf("a condition of %d CIDRs", len(c.IPSubnetworks))
			}
			back = append(back, c.IPSubnetworks...)
		}
		if !ipset.MustParse(back...).Equal(set) || len(conds) != (set.Len()+PerCondition-1)/PerCondition {
			t.Fatalf("%d conditions for %d prefixes", len(conds), set.Len())
		}
		again, _ := Layout(ipset.MustParse(cidrs...))
		if fmt.Sprint(again) != fmt.Sprint(conds) {
			t.Fatal("the same set gave another layout")
		}
	})
	if _, err := Layout(ipset.Set{}); err == nil || !strings.Contains(err.Error(), "cannot be empty") {
		t.Fatalf("empty: %v", err)
	}
}
