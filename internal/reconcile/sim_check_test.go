package reconcile_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// The simulation's checks: one per invariant, each over the world before
// and after a run and the run's structured report (docs/development.md,
// "The randomized simulation").

// before is the world as a run found it.
type before struct {
	owned   map[string]ipset.Set // each fence's owned part
	outside map[string]string    // and the rest of it
	faulty  bool                 // a fault was pending: liveness is not judged
	writes  int
	calls   calls
	loads   int
	prev    *snapshot.Snapshot // the snapshot as stored
	crash   bool
}

// observe is the world before a run.
func (s *sim) observe(crash bool) before {
	w := s.w
	b := before{owned: map[string]ipset.Set{}, outside: map[string]string{}, faulty: w.fetchFail > 0 || w.natFail > 0,
		writes: w.writes, calls: w.calls, loads: s.store.loads, prev: s.store.peek(), crash: crash}
	for name, f := range w.fences {
		b.owned[name], b.outside[name] = f.owned(s.sidOf(name)), f.outside(s.sidOf(name))
	}
	for _, n := range w.faults {
		b.faulty = b.faulty || n > 0
	}
	return b
}

// recordOf says what the record held of name before the run.
func (b before) recordOf(name string) string {
	if b.prev == nil {
		return "no snapshot yet"
	}
	r := b.prev.Targets[name]
	return fmt.Sprintf("the record before the run: source %s, departed %v, written %s", r.Source, r.Departed, r.Written)
}

// run runs the loop once (stopping it at crashAt, when set) and checks
// every invariant against the world before and after.
func (s *sim) run(crash bool, crashAt string) string {
	b := s.observe(crash)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := s.deps(s.rng)
	if crash {
		d.Checkpoint = func(at string) {
			if at == crashAt {
				cancel()
			}
		}
	}
	r, all := s.runLoop(ctx, d)
	s.tally(r, crash)
	for _, check := range []func() string{
		func() string { return s.checkOwnershipAndSafety(r, all, b) },
		func() string { return s.admitted(r) },
		func() string { return s.checkBlocks(r, b) },
		func() string { return s.checkAlerts(r, b) },
	} {
		if v := check(); v != "" {
			return v
		}
	}
	s.markSeen(r, b)
	// Liveness is not judged in a race step: a run that read the fence
	// while its rival held the lease may report it in sync, and the rival
	// may then roll its change back.
	if crash || b.faulty || r.Err != nil || s.racing > 0 {
		return ""
	}
	s.checked++
	if v := s.checkLiveness(r); v != "" {
		return v
	}
	return s.checkEconomy(r, b)
}

// tally counts what the run did, and logs it.
func (s *sim) tally(r reconcile.Report, crash bool) {
	s.runs++
	if crash {
		s.w.ledger.crashed()
		s.crashes++
	}
	var statuses []string
	for _, tp := range r.Targets {
		st := tp.Name + "=" + string(tp.Status)
		if tp.Status == plan.Error {
			st += "(" + tp.Reason + ")"
		}
		statuses = append(statuses, st)
	}
	s.log[len(s.log)-1] += holderID.ReplaceAllString(fmt.Sprintf(" → %s %s (err %v)", r.Status, strings.Join(statuses, " "), r.Err), "another run (…)")
	for _, tp := range r.Targets {
		switch tp.Status {
		case plan.Applied:
			s.applied++
			s.appliedTo[tp.Name]++
			if len(tp.RemovedAtOnce) > 0 {
				s.closedAtOnce++
			}
			if tp.Name == "endpoint" && !tp.Add.Intersect(ipset.MustParse(nodePool()...)).IsEmpty() {
				s.nodesAdded++
				if !tp.Add.Intersect(s.w.future).IsEmpty() {
					s.futureAdded++
				}
			}
		case plan.Refused:
			s.refused++
			if len(tp.Refusals) > 0 {
				s.poisonRefused++
			}
		case plan.RolledBack:
			s.rolledBack++
			if !tp.Unrecorded {
				s.rolledBackOwn++ // its own change, not an earlier run's
			}
		}
	}
}

// checkOwnershipAndSafety: nothing outside a fence's owned part changed,
// and nothing was removed from it on an empty answer or before the removal
// grace passed since a run that left it in sync last saw the address.
func (s *sim) checkOwnershipAndSafety(r reconcile.Report, all []reconcile.Report, b before) string {
	w := s.w
	// Rolled back by any run of the step, or its restore reported failure
	// (and may have landed).
	rollingBack := map[string]bool{}
	for _, rr := range all {
		for _, tp := range rr.Targets {
			rollingBack[tp.Name] = rollingBack[tp.Name] || len(tp.InvalidAfter) > 0
		}
	}
	for _, name := range slices.Sorted(maps.Keys(w.fences)) { // in order: a replay reports the same violation
		f := w.fences[name]
		sid := s.sidOf(name)
		after := f.owned(sid)
		if o := f.outside(sid); o != b.outside[name] {
			var unrecorded []ipset.Set
			if b.prev != nil {
				unrecorded = b.prev.Unrecorded[name]
			}
			return fmt.Sprintf("ownership: %s outside the owned part changed from %q to %q; %s, unrecorded claims %v; report %s %v", name, b.outside[name], o, b.recordOf(name), unrecorded, r.Status, r.Err)
		}
		removed := b.owned[name].Minus(after)
		if !removed.IsEmpty() {
			removed = removed.Minus(w.handAdded[name])
			delete(w.handAdded, name) // the loop wrote the fence: what it holds is the loop's now
		}
		source, _ := w.source(name)
		if b.prev != nil && (rollingBack[name] || restoring(b.prev, name, after)) {
			// Rolling back a change an earlier run wrote and never recorded
			// (it crashed), or finishing such a rollback, takes out what that
			// run added: its own write, which Atlas's answer on the key
			// judged, not a departure.
			removed = removed.Intersect(b.prev.Targets[name].Written)
		}
		for _, p := range removed.Strings() {
			if source.IsEmpty() {
				return fmt.Sprintf("safety: %s lost %s on an empty answer", name, p)
			}
			if seen, ok := w.lastSeen[name][p]; ok && w.now.Sub(seen) < s.grace {
				return fmt.Sprintf("safety: %s removed %s, absent from its source for %s only (grace %s); source %s; %s; report %s %v", name, p, w.now.Sub(seen), s.grace, source, b.recordOf(name), r.Status, r.Err)
			}
		}
	}
	return ""
}

// checkBlocks: a blocked target's fence does not change but for its
// pending restore; a rollback puts back what the fence held before the
// change (before the run, or the record for a change an earlier run wrote
// and never recorded).
func (s *sim) checkBlocks(r reconcile.Report, b before) string {
	for _, tp := range r.Targets {
		f := s.w.fences[tp.Name]
		if f == nil {
			continue
		}
		after := f.owned(s.sidOf(tp.Name))
		var blk snapshot.Block
		blocked := false
		if b.prev != nil {
			blk, blocked = b.prev.Blocked[tp.Name]
		}
		switch {
		case blocked && !blk.Pending && !after.Equal(b.owned[tp.Name]):
			return fmt.Sprintf("blocks: %s is blocked (%s) but changed from %s to %s", tp.Name, blk.Reason, b.owned[tp.Name], after)
		case blocked && blk.Pending && !after.Equal(b.owned[tp.Name]) && !after.Equal(blk.Restore):
			return fmt.Sprintf("blocks: %s's pending restore to %s left it at %s", tp.Name, blk.Restore, after)
		case tp.Status == plan.RolledBack && !b.crash && s.racing == 0 && !after.Equal(b.owned[tp.Name]) && (b.prev == nil || !after.Equal(b.prev.Targets[tp.Name].Written)):
			return fmt.Sprintf("blocks: %s rolled back to %s, neither what it held before the run, %s, nor its record", tp.Name, after, b.owned[tp.Name])
		}
	}
	return ""
}

// leasedToOther: the run found another run's live lease (one that stopped
// after recording its alerts), and leaves the outbox to the first run
// after it.
func (s *sim) leasedToOther(b before) bool {
	return b.prev != nil && b.prev.Lease != nil && s.w.now.Before(b.prev.Lease.Until)
}

// checkAlerts: the world's own findings (sizes), the alert ledger (every
// recorded alert published, none twice but after a crash, none invented),
// and a run that ended well leaves the outbox empty.
func (s *sim) checkAlerts(r reconcile.Report, b before) string {
	if len(s.w.violations) > 0 {
		return s.w.violations[0]
	}
	if v := s.w.ledger.violation(); v != "" {
		return v
	}
	if !b.crash && r.Err == nil && !s.leasedToOther(b) && len(s.store.outbox) > 0 {
		return fmt.Sprintf("alerts: a run that ended well left %d alert(s) in the outbox", len(s.store.outbox))
	}
	return ""
}

// markSeen notes what a run that left a target in sync fetched, recorded
// or not: the address may be one a crashed run wrote, and the claim's sets
// carry it to the run that records. A refused run keeps Atlas's recorded
// answer by design, so what it fetched is not seen. Nor is an address
// coming back while its departure is recorded, seen by a run under
// another's live lease (or racing for one): such a run records nothing,
// and if the address leaves again before a run records, its first
// departure's time stands (docs/design.md, "Decisions").
func (s *sim) markSeen(r reconcile.Report, b before) {
	stored := s.store.peek()
	for _, tp := range r.Targets {
		if b.crash || r.Status == plan.Refused || (tp.Status != plan.InSync && tp.Status != plan.Applied) {
			continue
		}
		_, read := s.w.source(tp.Name)
		if (s.leasedToOther(b) || s.racing > 0) && b.prev != nil && stored != nil {
			var departed []ipset.Set
			for _, d := range b.prev.Targets[tp.Name].Departed {
				departed = append(departed, d.Addresses)
			}
			read = read.Minus(ipset.Union(departed...).Minus(stored.Targets[tp.Name].Source))
		}
		s.w.seen(tp.Name, read)
	}
}

// checkLiveness: a run without faults leaves every fence at its plan's
// set, holding what its sources give but what the plan says it cannot
// carry or another owner holds, and nothing admission refuses; or refused,
// blocked or rolled back with a reason; or held back by another target's
// refusal.
func (s *sim) checkLiveness(r reconcile.Report) string {
	for _, tp := range r.Targets {
		switch tp.Status {
		case plan.Applied, plan.InSync:
			got := s.w.fences[tp.Name].owned(tp.Sid)
			if !got.Equal(tp.Desired) {
				return fmt.Sprintf("liveness: %s %s holds %s, its plan wanted %s", tp.Name, tp.Status, got, tp.Desired)
			}
			if _, refused := admission.Split(got, s.cfg.Guards.WidestPrefix); len(refused) > 0 {
				return fmt.Sprintf("liveness: %s %s after a run without faults still holds %s", tp.Name, tp.Status, refused[0].Why())
			}
			_, read := s.w.source(tp.Name)
			if missing := read.Minus(got).Minus(tp.LeftOut).Minus(tp.AllowedByOthers); !missing.IsEmpty() {
				return fmt.Sprintf("liveness: %s %s lacks %s, which its source gives, and its plan does not say why (left out %s, held by others %s)", tp.Name, tp.Status, missing, tp.LeftOut, tp.AllowedByOthers)
			}
		case plan.Refused, plan.Blocked, plan.RolledBack:
			if tp.Reason == "" {
				return fmt.Sprintf("liveness: %s %s without a reason", tp.Name, tp.Status)
			}
		case plan.Changes:
			if r.Status != plan.Refused { // another target's refusal holds every change back
				return fmt.Sprintf("liveness: %s left with changes after a run without faults: %s", tp.Name, tp.Reason)
			}
		default:
			return fmt.Sprintf("liveness: %s ended %s after a run without faults: %s", tp.Name, tp.Status, tp.Reason)
		}
	}
	return ""
}

// checkEconomy: a run with nothing to change writes nothing and reads the
// fewest: Atlas's answer, the snapshot, each fence and the NAT gateways
// once, Atlas's encryption answer not at all.
func (s *sim) checkEconomy(r reconcile.Report, b before) string {
	w := s.w
	if r.Status == plan.InSync && w.writes != b.writes {
		return fmt.Sprintf("economy: an in-sync run wrote %d times", w.writes-b.writes)
	}
	if r.Status != plan.InSync || slices.ContainsFunc(r.Targets, func(tp plan.TargetPlan) bool { return tp.Unrecorded }) {
		return ""
	}
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"questions to Atlas", w.calls.atlas - b.calls.atlas, 1},
		{"encryption-at-rest questions", w.calls.encryption - b.calls.encryption, 0},
		{"NAT gateway reads", w.calls.nat - b.calls.nat, 1},
		{"fence reads", w.calls.fenceReads - b.calls.fenceReads, len(s.cfg.Targets)},
	} {
		if c.got != c.want {
			return fmt.Sprintf("economy: a run with nothing to change made %d %s, want %d", c.got, c.what, c.want)
		}
	}
	if got := s.store.loads - b.loads; got != 1 {
		return fmt.Sprintf("economy: a run with nothing to change read the snapshot %d times, want 1", got)
	}
	s.counted++
	return ""
}
