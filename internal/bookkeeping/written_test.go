package bookkeeping

import (
	"fmt"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// What ipsync wrote, for a fence that does not mark it: nothing on a first
// run; the record; the record and what runs claimed and did not record.
func TestWritten(t *testing.T) {
	vault := config.Target{Name: "v", Type: "azure-key-vault", Resource: "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/kv1"}
	a, b := ipset.MustParse("192.0.2.1"), ipset.MustParse("192.0.2.2")
	recorded := answer("192.0.2.1")
	recorded.Targets = map[string]snapshot.TargetRecord{"v": {Type: string(vault.Type), Resource: vault.Resource, Written: a}}
	claimedOnly := answer("192.0.2.1")
	claimedOnly.Unrecorded = map[string][]ipset.Set{"v": {b}}
	both := answer("192.0.2.1")
	both.Targets, both.Unrecorded = recorded.Targets, claimedOnly.Unrecorded
	for name, c := range map[string]struct {
		prev *snapshot.Snapshot
		want string
	}{
		"no snapshot":           {nil, "[]"},
		"first run":             {answer("192.0.2.1"), "[]"},
		"recorded":              {recorded, "[[192.0.2.1/32]]"},
		"claimed, not recorded": {claimedOnly, "[[] [192.0.2.2/32]]"},
		"both":                  {both, "[[192.0.2.1/32] [192.0.2.2/32]]"},
	} {
		if got := fmt.Sprint(Written(c.prev, vault)); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
}

// A claim remembers the sets about to be written into the targets that
// change (or restore), of every kind, the latest few; recording a target
// forgets them, and a target that failed keeps them.
func TestClaimedAndForgotten(t *testing.T) {
	change := func(name string, st plan.Status, set string) plan.TargetPlan {
		return plan.TargetPlan{Target: plan.Target{Name: name}, Status: st, Change: target.Change{Set: ipset.MustParse(set)}}
	}
	prev := answer("192.0.2.1")
	prev.Unrecorded = map[string][]ipset.Set{"v": {ipset.MustParse("192.0.2.1")}, "w": {ipset.MustParse("192.0.2.9")}}
	got := Claimed(prev, []plan.TargetPlan{change("v", plan.Changes, "192.0.2.2"), change("kms", plan.Changes, "192.0.2.3"), change("x", plan.InSync, "192.0.2.4")})
	if fmt.Sprint(got) != "map[kms:[[192.0.2.3/32]] v:[[192.0.2.1/32] [192.0.2.2/32]] w:[[192.0.2.9/32]]]" {
		t.Fatalf("claimed %v", got)
	}
	many := prev
	for i := range 2 * MaxUnrecorded {
		many = &snapshot.Snapshot{Unrecorded: Claimed(many, []plan.TargetPlan{change("v", plan.Changes, fmt.Sprintf("192.0.2.%d", 10+i))})}
	}
	if n := len(many.Unrecorded["v"]); n != MaxUnrecorded || many.Unrecorded["v"][n-1].String() != "[192.0.2.17/32]" {
		t.Fatalf("kept %v", many.Unrecorded["v"])
	}
	// The same change claimed again and again (its writes failing) keeps
	// one place, the latest: the write before it that landed stays known.
	landed := &snapshot.Snapshot{Unrecorded: map[string][]ipset.Set{"v": {ipset.MustParse("192.0.2.50")}}}
	for range 2 * MaxUnrecorded {
		landed = &snapshot.Snapshot{Unrecorded: Claimed(landed, []plan.TargetPlan{change("v", plan.Changes, "192.0.2.51")})}
	}
	if fmt.Sprint(landed.Unrecorded["v"]) != "[[192.0.2.50/32] [192.0.2.51/32]]" {
		t.Fatalf("retried claims kept %v", landed.Unrecorded["v"])
	}
	claimed := answer("192.0.2.1")
	claimed.Unrecorded = got
	next := Next(claimed, answer("192.0.2.1"), []plan.TargetPlan{change("v", plan.Applied, "192.0.2.2"), change("w", plan.Error, "192.0.2.9")}, nil, t0)
	if fmt.Sprint(next.Unrecorded) != "map[w:[[192.0.2.9/32]]]" {
		t.Fatalf("after recording: %v", next.Unrecorded)
	}
}
