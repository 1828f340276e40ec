// Package bookkeeping is what a run remembers in the snapshot beyond
// Atlas's answer: each target's record, the alert memory, the blocks and
// when each trigger last ran; and whether a snapshot to store says anything
// new. It does no I/O: the loop reads and writes, this decides what.
package bookkeeping

import (
	"bytes"
	"slices"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// RecordOf returns the previous run's record of a target, or nil when there
// is none or the target now points elsewhere (a first run again).
func RecordOf(prev *snapshot.Snapshot, t config.Target) *plan.Record {
	if prev == nil {
		return nil
	}
	rec, ok := prev.Targets[t.Name]
	if !ok || rec.Type != string(t.Type) || rec.Resource != t.Resource {
		return nil
	}
	out := &plan.Record{Source: rec.Source, Written: rec.Written}
	for _, d := range rec.Departed {
		out.Departed = append(out.Departed, plan.Departure{Since: d.Since, Addresses: d.Addresses})
	}
	return out
}

// Written is what the snapshot says ipsync wrote into a target's fence,
// for a kind whose fence does not mark it (target.Ref.Written): the
// record's set first (empty when there is none), then the sets runs
// were about to write and did not record. nil: nothing at all.
func Written(prev *snapshot.Snapshot, t config.Target) []ipset.Set {
	rec := RecordOf(prev, t)
	var pending []ipset.Set
	if prev != nil {
		pending = prev.Unrecorded[t.Name]
	}
	if rec == nil && len(pending) == 0 {
		return nil
	}
	out := []ipset.Set{{}}
	if rec != nil {
		out[0] = rec.Written
	}
	return append(out, pending...)
}

// Unrecorded is every address runs claimed they were about to write into
// a target's fence and did not record (plan.Input.Claimed).
func Unrecorded(prev *snapshot.Snapshot, t config.Target) ipset.Set {
	if prev == nil {
		return ipset.Set{}
	}
	return ipset.Union(prev.Unrecorded[t.Name]...)
}

// MaxUnrecorded bounds the sets kept per target in Snapshot.Unrecorded:
// each is a write that was claimed and never recorded, and only the
// latest few distinct ones can still be in the fence. A set claimed again
// (the same change retried while its writes fail) takes no second place:
// four failed retries would otherwise push out the write that landed, and
// ipsync would take its own rules for a human's.
const MaxUnrecorded = 4

// Claimed is the snapshot a run stores as its claim: prev with the sets
// this run is about to write into the targets that change, so that a run
// stopping after the write leaves them. Every kind needs them: what was
// written then is the removal grace's (Unrecorded) and, for a fence that
// does not mark ipsync's part, ownership's (Written).
func Claimed(prev *snapshot.Snapshot, targets []plan.TargetPlan) map[string][]ipset.Set {
	out := map[string][]ipset.Set{}
	if prev != nil {
		for k, v := range prev.Unrecorded {
			out[k] = v
		}
	}
	for _, tp := range targets {
		if tp.Status != plan.Changes && tp.Restore == nil {
			continue
		}
		sets := slices.DeleteFunc(slices.Clone(out[tp.Name]), tp.Change.Set.Equal)
		sets = append(sets, tp.Change.Set)
		if len(sets) > MaxUnrecorded {
			sets = sets[len(sets)-MaxUnrecorded:]
		}
		out[tp.Name] = sets
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Next builds the snapshot to store: Atlas's new answer, and for each
// target the new record if it is in sync now (written and verified, or
// already so), else the old one, so that a failed target is retried. What
// ipsync remembers beyond Atlas's answer is carried over here: the blocks
// (with this run's new ones) and when each trigger last ran.
func Next(prev, fetched *snapshot.Snapshot, targets []plan.TargetPlan, blocks map[string]snapshot.Block, now time.Time) *snapshot.Snapshot {
	next := *fetched
	next.Lease = nil // recording ends this run's claim
	next.Blocked = mergeBlocks(prev, blocks)
	if prev != nil {
		next.Seen = prev.Seen
	}
	next.Targets = map[string]snapshot.TargetRecord{}
	next.Unrecorded = nil
	for _, tp := range targets {
		if tp.Status != plan.InSync && tp.Status != plan.Applied && prev != nil && prev.Unrecorded[tp.Name] != nil {
			// Not recorded: what it may have written stays remembered.
			if next.Unrecorded == nil {
				next.Unrecorded = map[string][]ipset.Set{}
			}
			next.Unrecorded[tp.Name] = prev.Unrecorded[tp.Name]
		}
		if tp.Status == plan.InSync || tp.Status == plan.Applied {
			rec := snapshot.TargetRecord{Type: string(tp.Type), Resource: tp.Resource, Source: tp.NewRecord.Source, Written: tp.NewRecord.Written, UpdatedAt: now}
			for _, d := range tp.NewRecord.Departed {
				rec.Departed = append(rec.Departed, snapshot.Departure{Since: d.Since, Addresses: d.Addresses})
			}
			if prevRec, ok := prevTarget(prev, tp.Name); ok {
				if prevRec.Type == rec.Type && prevRec.Resource == rec.Resource {
					rec.Published = prevRec.Published
				}
				if sameRecord(prevRec, rec) {
					rec.UpdatedAt = prevRec.UpdatedAt // nothing new: the snapshot need not change
				}
			}
			next.Targets[tp.Name] = rec
			continue
		}
		if rec, ok := prevTarget(prev, tp.Name); ok {
			next.Targets[tp.Name] = rec
		}
	}
	return &next
}

// Unpublished are the targets in sync whose set is not the one last
// published beside the snapshot (snapshot.TargetSet): what the loop
// publishes, and then records as published.
func Unpublished(next *snapshot.Snapshot, targets []plan.TargetPlan) []plan.TargetPlan {
	var out []plan.TargetPlan
	for _, tp := range targets {
		rec, ok := next.Targets[tp.Name]
		if (tp.Status == plan.InSync || tp.Status == plan.Applied) && ok && rec.Published != snapshot.SetHash(rec.Written) {
			out = append(out, tp)
		}
	}
	return out
}

func prevTarget(prev *snapshot.Snapshot, name string) (snapshot.TargetRecord, bool) {
	if prev == nil {
		return snapshot.TargetRecord{}, false
	}
	r, ok := prev.Targets[name]
	return r, ok
}

// sameRecord compares records but for their time stamp.
func sameRecord(a, b snapshot.TargetRecord) bool {
	if a.Type != b.Type || a.Resource != b.Resource || !a.Source.Equal(b.Source) || !a.Written.Equal(b.Written) || len(a.Departed) != len(b.Departed) {
		return false
	}
	for i, d := range a.Departed {
		if !d.Since.Equal(b.Departed[i].Since) || !d.Addresses.Equal(b.Departed[i].Addresses) {
			return false
		}
	}
	return true
}

// Changed reports whether next says anything prev does not: Atlas's answer,
// a target record or the alert memory. The fetch time alone is no change, so
// a run that found nothing new writes nothing. A snapshot that cannot be
// encoded counts as changed: writing it then fails with the encoding error.
func Changed(prev, next *snapshot.Snapshot) bool {
	strip := func(s *snapshot.Snapshot) ([]byte, error) {
		c := *s
		c.FetchedAt = time.Time{}
		return c.Marshal()
	}
	a, errA := strip(prev)
	b, errB := strip(next)
	return errA != nil || errB != nil || !bytes.Equal(a, b)
}

// mergeBlocks keeps the blocks a human has not cleared and adds new ones.
func mergeBlocks(prev *snapshot.Snapshot, added map[string]snapshot.Block) map[string]snapshot.Block {
	out := map[string]snapshot.Block{}
	if prev != nil {
		for k, v := range prev.Blocked {
			out[k] = v
		}
	}
	for k, v := range added {
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// AlertState is the alert memory a snapshot keeps.
func AlertState(s *snapshot.Snapshot) notify.State {
	st := notify.State{Targets: map[string]notify.AlertState{}}
	if s == nil {
		return st
	}
	st.Run = notify.AlertState(s.RunAlert)
	for k, v := range s.Alerts {
		st.Targets[k] = notify.AlertState(v)
	}
	return st
}

// StoredAlerts is the stored form of an alert memory.
func StoredAlerts(st notify.State) (targets map[string]string, run string) {
	if len(st.Targets) > 0 {
		targets = map[string]string{}
		for k, v := range st.Targets {
			targets[k] = string(v)
		}
	}
	return targets, string(st.Run)
}

// Seen returns next's Seen with this run's trigger stamped when the
// snapshot is written anyway, or when the stamp is older than the heartbeat.
func Seen(prev, next *snapshot.Snapshot, trigger string, now time.Time) map[string]time.Time {
	if trigger == "" {
		return next.Seen
	}
	last, ok := next.Seen[trigger]
	if prev != nil && !Changed(prev, next) && ok && now.Sub(last) < snapshot.SeenHeartbeat {
		return next.Seen
	}
	out := map[string]time.Time{trigger: now}
	for k, v := range next.Seen {
		if k != trigger {
			out[k] = v
		}
	}
	return out
}
