package reconcile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

// Poisoned answers in the simulation (issue 30): a part of Atlas's answer
// or of the NAT gateways' carries a prefix admission must refuse, and a
// person opens a fence's owned part. After every run no fence's owned part
// holds such a prefix but one a person put there; after a run without
// faults, none at all.

// poisonPool is what a source's answer may wrongly carry.
func poisonPool() []string {
	return []string{"0.0.0.0/0", "::/0", "10.0.0.0/8", "127.0.0.1/32", "192.168.1.20/32", "52.0.0.0/8", "0.0.0.0/1", "fd00::1/128", "224.0.0.1/32"}
}

// handPool is what a person may put into an owned part: IPv4 (every
// fence carries it), and apart from poisonPool, so that a prefix the loop
// wrote is never taken for a person's.
func handPool() []string {
	return []string{"100.64.0.1/32", "169.254.1.1/32", "44.0.0.0/16", "240.0.0.1/32"}
}

// poisonStep makes one part of a source's answer carry a refused prefix
// for the next one to three reads of it.
func (s *sim) poisonStep() {
	w := s.w
	w.poison, w.poisonAt, w.poisonReads = s.pick(poisonPool()), s.pick([]string{"outbound", "nodes", "future", "nat"}), 1+s.rng.IntN(3)
	s.log = append(s.log, fmt.Sprintf("the %s answer carries %s for %d read(s)", w.poisonAt, w.poison, w.poisonReads))
}

// poisoned is set as a read of part gives it: with the poison while it
// lasts (a read of the part uses one up).
func (w *world) poisoned(part string, set ipset.Set) ipset.Set {
	if w.poisonReads == 0 || w.poisonAt != part {
		return set
	}
	w.poisonReads--
	return ipset.Union(set, ipset.MustParse(w.poison))
}

// handOpens is a person putting a prefix admission refuses into a fence's
// owned part (a vault's rule so added is the person's, not ipsync's).
func (s *sim) handOpens() {
	w := s.w
	name, bad := s.pick(simNames), ipset.MustParse(s.pick(handPool()))
	sid := s.sidOf(name)
	w.handAdded[name] = ipset.Union(w.handAdded[name], bad)
	w.handBad[name] = ipset.Union(w.handBad[name], bad)
	set := ipset.Union(w.fences[name].owned(sid), bad)
	w.fences[name].setOwned(sid, set)
	s.log = append(s.log, "human opens "+name+" with "+bad.String())
}

// admitted is the invariant: no fence's owned part holds a prefix
// admission refuses that no person put there.
func (s *sim) admitted(r reconcile.Report) string {
	for _, name := range simNames {
		owned := s.w.fences[name].owned(s.sidOf(name)).Minus(s.w.handBad[name])
		if _, refused := admission.Split(owned, s.cfg.Guards.WidestPrefix); len(refused) > 0 {
			return fmt.Sprintf("admission: %s holds %s, which no person put there; report %s %v", name, refused[0].Why(), r.Status, r.Err)
		}
	}
	return ""
}

// The planted bug: the loop hands the plan nothing to judge. A poisoned
// answer then reaches the fences, and the invariant finds it within the
// budget (make sim's, and make unit's tenth under the race detector).
func TestSimulationFindsAdmissionLeftOut(t *testing.T) {
	seed, steps := simBudget()
	p := planted{grace: simGrace, noAdmission: true}
	v, h, failing, _ := history(t, seed, steps, p)
	if !strings.HasPrefix(v, "admission: ") {
		t.Fatalf("a loop without admission went unnoticed for %d steps (violation %q)", steps, v)
	}
	t.Logf("found at step %d: %s", len(h), v)
	short, sv, log := shrink(t, failing, v, p)
	if !strings.HasPrefix(sv, "admission: ") || len(short) > len(failing) {
		t.Fatalf("shrunk to %d steps (from %d): %q", len(short), len(failing), sv)
	}
	t.Logf("shrunk from %d steps to %d:\n  %s", len(failing), len(short), strings.Join(log, "\n  "))
}
