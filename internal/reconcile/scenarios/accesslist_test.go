package scenarios_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
)

// The managed entries follow the NAT gateways' addresses and the static
// CIDRs; everybody else's entries stay as they are; entries are added one
// POST at a time.
func TestAccessListFollowsTheNATGateways(t *testing.T) {
	w := reconciletest.NewAccessListWorld(t, `"198.51.100.7/32"`)
	w.Sim.SetAccessList(reconciletest.Project,
		atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"},
		atlastest.AccessEntry{AWSSecurityGroup: "sg-0123", Comment: "peering"},
		atlastest.AccessEntry{CIDRBlock: "192.0.2.50/32", Comment: "atlas-ip-sync (old egress)"})
	w.Sim.SetLatency(20 * time.Millisecond) // room for a race, if there were one
	r := w.Run()
	if r.Err != nil || r.Targets[0].Status != plan.Applied {
		t.Fatalf("run: %v %+v", r.Err, r.Targets[0])
	}
	want := []string{"198.51.100.7/32=atlas-ip-sync", w.NATIP + "/32=atlas-ip-sync", "203.0.113.9/32=office", "sg-0123=peering"}
	got := w.Entries()
	for _, e := range want {
		if !strings.Contains(got, e) {
			t.Errorf("access list %s lacks %s", got, e)
		}
	}
	if strings.Contains(got, "192.0.2.50") {
		t.Errorf("the old managed entry is still there: %s", got)
	}
	// What on-call reads speaks of the list's entries, not of a policy.
	if len(r.Alerts) != 1 || !strings.HasPrefix(r.Alerts[0].Body, "The access list's managed entries were updated and verified.") ||
		!strings.Contains(r.Targets[0].Reason, "managed entries") {
		t.Errorf("reason %q, alerts %+v", r.Targets[0].Reason, r.Alerts)
	}
	if w.Sim.MaxInFlight(atlastest.AccessListAdd) != 1 || w.Sim.Calls(atlastest.AccessListAdd) != 2 || w.Sim.Calls(atlastest.AccessListDelete) != 1 {
		t.Fatalf("POSTs %d (max in flight %d), DELETEs %d", w.Sim.Calls(atlastest.AccessListAdd), w.Sim.MaxInFlight(atlastest.AccessListAdd), w.Sim.Calls(atlastest.AccessListDelete))
	}
	// Nothing changed: nothing written.
	if r := w.Run(); r.Status != plan.InSync || w.Sim.Calls(atlastest.AccessListAdd) != 2 || w.Sim.Calls(atlastest.AccessListDelete) != 1 {
		t.Fatalf("second run: %s, %d POSTs, %d DELETEs", r.Status, w.Sim.Calls(atlastest.AccessListAdd), w.Sim.Calls(atlastest.AccessListDelete))
	}
}

// Atlas allows 200 entries per project: a plan that would pass it is
// refused before any write, counting everybody's entries.
func TestAccessListLimitIsCheckedInThePlan(t *testing.T) {
	w := reconciletest.NewAccessListWorld(t, `"198.51.100.7/32"`)
	var others []atlastest.AccessEntry
	for i := range 199 {
		others = append(others, atlastest.AccessEntry{CIDRBlock: fmt.Sprintf("10.9.%d.0/24", i), Comment: "team"})
	}
	w.Sim.SetAccessList(reconciletest.Project, others...)
	r := w.Run()
	if r.Status != plan.Refused || !strings.Contains(r.Targets[0].Reason, "would hold 201 entries; the limit is 200") || w.Sim.Calls(atlastest.AccessListAdd) != 0 {
		t.Fatalf("run: %s %+v; %d POSTs", r.Status, r.Targets[0], w.Sim.Calls(atlastest.AccessListAdd))
	}
}

// An entry somebody else made for an address ipsync wants is not taken over.
func TestAccessListLeavesOthersEntriesAlone(t *testing.T) {
	w := reconciletest.NewAccessListWorld(t, `"203.0.113.9/32"`)
	w.Sim.SetAccessList(reconciletest.Project, atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"})
	r := w.Run()
	if tp := r.Targets[0]; tp.Status != plan.Error || !strings.Contains(tp.Reason, "does not take over an entry it does not own") {
		t.Fatalf("run: %+v", tp)
	}
	if got := w.Entries(); !strings.Contains(got, "203.0.113.9/32=office") {
		t.Fatalf("the office entry changed: %s", got)
	}
}
