// Package plan turns what Atlas says and what each fence holds into a plan:
// per target the desired and actual sets, what to add and remove, the
// change its kind renders and its size, and a verdict. It works on sets,
// sizes and counts; what a fence is and how it is rewritten is its kind's
// (internal/target). It does no I/O; the guards are small functions over
// the plan.
package plan

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Status is a target's or a plan's verdict.
type Status string

// Verdicts (docs/design.md "CLI": the --json document).
const (
	InSync  Status = "in-sync"
	Changes Status = "changes"
	Refused Status = "refused"
	Error   Status = "error"
	// Applied: set by the orchestrator on a target after a verified write,
	// and on a run that wrote its changes with nothing amiss.
	Applied Status = "applied"
	// RolledBack is set by the orchestrator when Atlas lost encryption at
	// rest after a write and the previous policy was restored.
	RolledBack Status = "rolled-back"
	// Blocked: the target has changes, but a rollback blocked it until a
	// human clears it (ipsync unblock).
	Blocked Status = "blocked"
)

// NotInSync says the target ended a run neither in sync nor with changes
// it could take: it failed, was rolled back, or is blocked. Such a target
// makes the run an error.
func (s Status) NotInSync() bool { return s == Error || s == RolledBack || s == Blocked }

// Target identifies one policy document and the statement owned in it.
type Target struct {
	Name     string      `json:"name"`
	Type     target.Type `json:"type"`
	Resource string      `json:"resource"`
	Sid      string      `json:"-"`
	// RoleArn is the role assumed to read and write the target (another
	// account); empty: the run's own credentials.
	RoleArn string         `json:"roleArn,omitempty"`
	Options target.Options `json:"-"`
	// Written is what the snapshot says ipsync wrote into the fence, for
	// a kind with RecordedOwnership (target.Ref.Written).
	Written []ipset.Set `json:"-"`
}

// Ref is the target as its kind's adapter sees it.
func (t Target) Ref() target.Ref {
	return target.Ref{Resource: t.Resource, Sid: t.Sid, Options: t.Options, Written: t.Written}
}

// Departure is a group of addresses that left Atlas's answer at one time;
// they stay allowed until the removal grace has passed since then.
type Departure struct {
	Since     time.Time
	Addresses ipset.Set
}

// Record is what the previous run remembered of a target: the addresses its
// sources gave (without static CIDRs), what has departed since when, and
// the set the owned statement held when the run finished.
type Record struct {
	Source   ipset.Set
	Departed []Departure
	Written  ipset.Set
}

// Input is everything known about one target at plan time.
type Input struct {
	Target Target
	Source ipset.Set // what Atlas says now, through the target's sources
	// Parts are Source's parts, each named by where it came from, for
	// admission's verdicts; nil: Source is judged as one part.
	Parts  []admission.Part
	Static ipset.Set
	// HasSources says the target has Atlas sources configured (not only static).
	HasSources bool
	Record     *Record // nil on the target's first run
	Kind       target.Kind
	Live       target.Fence // what reading the target found
	ReadErr    error        // reading the target failed
	// Room, when set, is what the fence really has room for (less than its
	// capacity when it shares a limit with other documents; at or below
	// zero when the others use it all).
	Room *target.Capacity
	// Blocked, when set, says why the target takes no change (a rollback).
	Blocked string
	// Restore, when set, is the set a rollback an earlier run decided (and
	// may not have written) restores: the target takes that change and no
	// other, and stays blocked.
	Restore *ipset.Set
	// Claimed is what earlier runs claimed they were about to write into
	// the fence and never recorded: the fence may hold it though no record
	// says so, and what of it Atlas no longer gives gets the removal grace.
	Claimed ipset.Set
}

// TargetPlan is the plan for one target.
type TargetPlan struct {
	Target
	// Kind is the target's kind (nil when the config named none it knows).
	Kind    target.Kind `json:"-"`
	Status  Status      `json:"status"`
	Add     ipset.Set   `json:"add"`
	Remove  ipset.Set   `json:"remove"`
	Reason  string      `json:"reason,omitempty"`
	Desired ipset.Set   `json:"-"`
	Actual  ipset.Set   `json:"-"`
	Source  ipset.Set   `json:"-"`
	// Kept are addresses Atlas no longer lists that stay allowed during the
	// removal grace.
	Kept     ipset.Set `json:"kept"`
	FirstRun bool      `json:"firstRun,omitempty"`
	Drift    bool      `json:"drift,omitempty"`
	// Unrecorded: in sync, but not with what the last record says the
	// policy held: an earlier run wrote it and stopped before recording.
	// Add and Remove then say what that write changed.
	Unrecorded bool   `json:"unrecorded,omitempty"`
	Size       int    `json:"size,omitempty"`
	Limit      int    `json:"limit,omitempty"`
	Form       string `json:"form,omitempty"`
	// LeftOut are desired addresses the fence cannot carry (their address
	// family); AllowedByOthers, desired prefixes another owner's part of
	// the fence already holds exactly. Neither is added; the reason says so.
	LeftOut         ipset.Set `json:"leftOut,omitzero"`
	AllowedByOthers ipset.Set `json:"allowedByOthers,omitzero"`
	// Refusals are the prefixes admission refused from the target's
	// sources: the reason the target (and so the run) is refused.
	Refusals []admission.Verdict `json:"refusedPrefixes,omitempty"`
	// RemovedAtOnce are the prefixes of the owned part admission refuses
	// that the change removes, without the removal grace.
	RemovedAtOnce []admission.Verdict `json:"removedAtOnce,omitempty"`
	// InvalidBefore are the projects that reported encryption at rest
	// invalid (awsKms.valid false) before the change; InvalidAfter, those
	// that turned invalid after it, which rolled it back. Set by the
	// orchestrator.
	InvalidBefore []string `json:"encryptionInvalidBefore,omitempty"`
	InvalidAfter  []string `json:"encryptionInvalidAfter,omitempty"`
	// Change is what to write when Status is Changes, or when Restore is
	// set.
	Change target.Change `json:"-"`
	// Restore is set when a blocked target's Document finishes a rollback
	// an earlier run decided: the set its owned statement must hold again.
	Restore   *ipset.Set `json:"-"`
	NewRecord Record     `json:"-"`
}

// Guards are the safety limits.
type Guards struct {
	MinAddresses     int
	MaxRemovePercent float64
	RemovalGrace     time.Duration
	// Widest is admission's broadest prefix per family (zero: no limit on
	// breadth; the kinds of address are judged all the same).
	Widest admission.Widest
}

// Guard inspects one target's plan and returns a reason to refuse, or "".
type Guard func(in Input, p *TargetPlan) string

// Plan is every target's plan and the overall verdict.
type Plan struct {
	Status  Status
	Targets []TargetPlan
}

// Build plans every target. Targets that cannot be read or rendered are
// errors; a guard refusal on any target makes the whole plan refused.
func Build(inputs []Input, g Guards, now time.Time) Plan {
	p := Plan{Targets: make([]TargetPlan, len(inputs))}
	for i, in := range inputs {
		p.Targets[i] = planTarget(in, g, now)
	}
	p.Status = overall(p.Targets)
	return p
}

// Replan plans target i again from in (its limit narrowed, say) and
// recomputes the verdict; the other targets keep their plans.
func (p *Plan) Replan(i int, in Input, g Guards, now time.Time) {
	p.Targets[i] = planTarget(in, g, now)
	p.Status = overall(p.Targets)
}

func (g Guards) list() []Guard {
	return []Guard{MinAddresses(g.MinAddresses), MaxRemovePercent(g.MaxRemovePercent), NeverAllowAll}
}

func overall(ts []TargetPlan) Status {
	status := InSync
	for _, t := range ts {
		switch {
		case t.Status == Refused:
			return Refused
		case t.Status.NotInSync():
			status = Error
		case t.Status == Changes && status == InSync:
			status = Changes
		}
	}
	return status
}

// room is what the target's fence can hold: Room when the loop narrowed
// it, else the fence's capacity, else (nothing was read) its kind's.
func (in Input) room() target.Capacity {
	switch {
	case in.Room != nil:
		return *in.Room
	case in.Live != nil:
		return in.Live.Capacity()
	case in.Kind != nil:
		return in.Kind.Capacity()
	}
	return target.Capacity{}
}

// unrecorded is what the fence's owned part holds of the claimed writes,
// static CIDRs aside (they are desired anyway, and no departure).
func (in Input) unrecorded() ipset.Set {
	if in.Live == nil || in.ReadErr != nil {
		return ipset.Set{}
	}
	return in.Claimed.Intersect(in.Live.Owned()).Minus(in.Static)
}

func planTarget(in Input, g Guards, now time.Time) (tp TargetPlan) {
	room := in.room()
	tp = TargetPlan{Target: in.Target, Kind: in.Kind, Source: in.Source, FirstRun: in.Record == nil, Limit: room.Max}
	if refused := in.refusals(g.Widest); len(refused) > 0 {
		return admissionRefused(tp, in, refused)
	}
	// What admission refuses is never protected: no grace, not counted by
	// the guards (an earlier version may have recorded it).
	in.Record = in.Record.admitted(g.Widest)
	kept, departed := RemovalGrace(in.Record, in.Source, admission.Admitted(in.unrecorded(), g.Widest), now, g.RemovalGrace)
	tp.Kept = kept
	tp.Desired = ipset.Union(in.Source, in.Static, kept)
	tp.NewRecord = Record{Source: in.Source, Departed: departed, Written: tp.Desired}
	if in.ReadErr != nil || in.Live == nil {
		return withError(tp, in)
	}
	actual := in.Live.Owned()
	tp.Actual = actual
	var left ipset.Set
	if tp.Desired, left = in.Live.Families().Carried(tp.Desired); !left.IsEmpty() {
		tp.NewRecord.Written, tp.LeftOut = tp.Desired, left
		defer func() { tp.Reason = joinReason(tp.Reason, leftOut(left)) }()
	}
	if in.Restore != nil {
		return restoreTarget(tp, *in.Restore, room, in)
	}
	// A prefix another owner's rule already holds, exactly, is not added
	// (the service refuses the duplicate, and it is never taken over);
	// what ipsync already holds stays, and a broader rule of another owner
	// counts for nothing, so that the fence does not depend on a part
	// someone else may delete.
	if held := heldByOthers(tp.Desired, in.Live.HeldByOthers(), actual); !held.IsEmpty() {
		tp.Desired, tp.AllowedByOthers = tp.Desired.Minus(held), held
		tp.NewRecord.Written = tp.Desired
		defer func() { tp.Reason = joinReason(tp.Reason, alreadyAllowed(in.Kind, held)) }()
	}
	tp.Add, tp.Remove = ipset.Diff(actual, tp.Desired)
	for _, guard := range g.list() {
		if reason := guard(in, &tp); reason != "" {
			// Nothing is written, so nothing is "kept" either.
			tp.Status, tp.Reason, tp.Kept = Refused, reason, ipset.Set{}
			return tp
		}
	}
	if tp.RemovedAtOnce = removedAtOnce(actual, tp.Remove, g.Widest); len(tp.RemovedAtOnce) > 0 {
		defer func() { tp.Reason = joinReason(tp.Reason, removedAtOnceReason(tp.RemovedAtOnce)) }()
	}
	if tp.Add.IsEmpty() && tp.Remove.IsEmpty() {
		tp.Status = InSync
		if in.Record != nil && !actual.Equal(in.Record.Written) {
			tp.Unrecorded = true
			tp.Add, tp.Remove = ipset.Diff(in.Record.Written, actual)
			tp.Reason = "already applied by an earlier run that stopped before recording it"
		}
		tp.Size = in.Live.Used() // as stored: the size the service counts
		return tp
	}
	change, err := in.Live.Rewrite(tp.Desired, room)
	if err != nil {
		tp.Status, tp.Reason, tp.Kept = Refused, err.Error(), ipset.Set{}
		return tp
	}
	if in.Blocked != "" {
		tp.Status, tp.Kept = Blocked, ipset.Set{}
		tp.Reason = in.Blocked + UntilUnblock(in.Target.Name)
		return tp
	}
	tp.Status, tp.Change, tp.Size, tp.Form = Changes, change, change.Size, change.Form
	// Drift: the fence no longer holds what ipsync left in it.
	tp.Drift = in.Record != nil && !actual.Equal(in.Record.Written)
	tp.Reason = changeReason(tp, in)
	return tp
}

// restoreTarget plans a target whose rollback an earlier run decided but
// may not have written: its only change is that restore, which no guard
// holds back (it puts back what the fence held before a change Atlas
// rejected), and it stays blocked.
func restoreTarget(tp TargetPlan, restore ipset.Set, room target.Capacity, in Input) TargetPlan {
	tp.Status, tp.Kept = Blocked, ipset.Set{}
	tp.Add, tp.Remove = ipset.Diff(tp.Actual, restore)
	if tp.Add.IsEmpty() && tp.Remove.IsEmpty() {
		tp.Reason = in.Blocked + "; the policy holds what it held before that change" + UntilUnblock(in.Target.Name)
		tp.Size = in.Live.Used()
		return tp
	}
	change, err := in.Live.Rewrite(restore, room)
	if err != nil {
		tp.Status, tp.Reason = Error, "restoring the previous policy: "+err.Error()
		return tp
	}
	tp.Change, tp.Size, tp.Form, tp.Restore = change, change.Size, change.Form, &restore
	tp.Reason = in.Blocked + "; the run that rolled it back stopped before restoring the policy: this run restores it (+/- below)" + UntilUnblock(in.Target.Name)
	return tp
}

// leftOut says which desired addresses the fence cannot carry.
func leftOut(left ipset.Set) string {
	return fmt.Sprintf("left out, the fence cannot carry their address family: %s", left)
}

// heldByOthers are the prefixes of desired that another owner's part of
// the fence holds exactly, and ipsync does not hold already.
func heldByOthers(desired ipset.Set, others []netip.Prefix, actual ipset.Set) ipset.Set {
	if len(others) == 0 {
		return ipset.Set{}
	}
	var held []netip.Prefix
	for _, p := range desired.Prefixes() {
		if slices.Contains(others, p) && actual.Intersect(ipset.Of(p)).IsEmpty() {
			held = append(held, p)
		}
	}
	return ipset.Of(held...)
}

// alreadyAllowed says which desired prefixes another owner's part of the
// fence holds.
func alreadyAllowed(k target.Kind, covered ipset.Set) string {
	others := "a part of the fence ipsync does not own"
	if k != nil && k.Words().Others != "" {
		others = k.Words().Others
	}
	return fmt.Sprintf("already allowed by %s with the same prefix, so ipsync adds nothing for: %s", others, covered)
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// UntilUnblock ends the reason of a blocked target: what lifts the block.
func UntilUnblock(name string) string {
	return "; no change is made to it until `ipsync unblock " + name + "`"
}

// changeReason says why a target changes, in the words of what ipsync owns
// in it: a policy's owned statement, or an access list's managed entries,
// which follow NAT gateways rather than Atlas.
func changeReason(tp TargetPlan, in Input) string {
	words, nat := target.Statement, false
	if in.Kind != nil {
		words, nat = in.Kind.Words(), in.Kind.Rules().Feeds == target.FeedNATGateways
	}
	switch {
	case tp.FirstRun:
		return words.FirstRun()
	case tp.Drift:
		return words.Drift()
	case !in.Source.Equal(in.Record.Source) && nat:
		return "the NAT gateways' addresses changed"
	case !in.Source.Equal(in.Record.Source):
		return "Atlas's addresses changed"
	}
	return "the desired set changed (static CIDRs, or the removal grace ended for addresses the sources no longer give)"
}

// withError is the plan of a target that could not be read: a fence that
// lacks the part ipsync owns gets the kind's example of what to add.
func withError(tp TargetPlan, in Input) TargetPlan {
	tp.Status = Error
	err := in.ReadErr
	if err == nil {
		err = errors.New("nothing was read") // the loop always gives one or the other
	}
	var no *target.NotOwnedError
	if errors.As(err, &no) && in.Kind != nil {
		if ex := in.Kind.Example(in.Target.Sid, tp.Desired.Strings()); ex != "" {
			tp.Reason = fmt.Sprintf("%s %s: %v. Add this statement to the policy (it already holds the desired addresses):\n%s",
				in.Target.Type, in.Target.Resource, err, ex)
			return tp
		}
	}
	tp.Reason = err.Error()
	return tp
}
