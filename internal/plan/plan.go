// Package plan turns what Atlas says and what each policy holds into a plan:
// per target the desired and actual sets, what to add and remove, the
// rendered policy and its size, and a verdict. It does no I/O; the guards are
// small functions over the plan.
package plan

import (
	"errors"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
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
	Applied Status = "applied" // set by the orchestrator after a verified write
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
	RoleArn string `json:"roleArn,omitempty"`
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
	Static ipset.Set
	// HasSources says the target has Atlas sources configured (not only static).
	HasSources bool
	Record     *Record // nil on the target's first run
	Live       []byte  // the live policy document
	ReadErr    error   // reading the live policy failed
	Limit      policy.Limit
	// Blocked, when set, says why the target takes no change (a rollback).
	Blocked string
	// Restore, when set, is the set a rollback an earlier run decided (and
	// may not have written) restores: the target takes that change and no
	// other, and stays blocked.
	Restore *ipset.Set
}

// TargetPlan is the plan for one target.
type TargetPlan struct {
	Target
	Status  Status    `json:"status"`
	Add     ipset.Set `json:"add"`
	Remove  ipset.Set `json:"remove"`
	Reason  string    `json:"reason,omitempty"`
	Desired ipset.Set `json:"-"`
	Actual  ipset.Set `json:"-"`
	Source  ipset.Set `json:"-"`
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
	// InvalidBefore are the projects that reported encryption at rest
	// invalid (awsKms.valid false) before the change; InvalidAfter, those
	// that turned invalid after it, which rolled it back. Set by the
	// orchestrator.
	InvalidBefore []string `json:"encryptionInvalidBefore,omitempty"`
	InvalidAfter  []string `json:"encryptionInvalidAfter,omitempty"`
	// Document is the policy to write when Status is Changes, or when
	// Restore is set.
	Document []byte `json:"-"`
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
		p.Targets[i] = planTarget(in, g.RemovalGrace, g.list(), now)
	}
	p.Status = overall(p.Targets)
	return p
}

// Replan plans target i again from in (its limit narrowed, say) and
// recomputes the verdict; the other targets keep their plans.
func (p *Plan) Replan(i int, in Input, g Guards, now time.Time) {
	p.Targets[i] = planTarget(in, g.RemovalGrace, g.list(), now)
	p.Status = overall(p.Targets)
}

func (g Guards) list() []Guard {
	return []Guard{MinAddresses(g.MinAddresses), MaxRemovePercent(g.MaxRemovePercent)}
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

func planTarget(in Input, grace time.Duration, guards []Guard, now time.Time) TargetPlan {
	tp := TargetPlan{Target: in.Target, Source: in.Source, FirstRun: in.Record == nil, Limit: in.Limit.Max}
	kept, departed := RemovalGrace(in.Record, in.Source, now, grace)
	tp.Kept = kept
	tp.Desired = ipset.Union(in.Source, in.Static, kept)
	tp.NewRecord = Record{Source: in.Source, Departed: departed, Written: tp.Desired}
	if in.ReadErr != nil {
		tp.Status, tp.Reason = Error, in.ReadErr.Error()
		return tp
	}
	owned, err := policy.Parse(in.Live, in.Target.Sid)
	if err != nil {
		return withError(tp, err, in)
	}
	cond := owned.Condition()
	actual, err := ipset.Parse(cond.Values)
	if err != nil {
		tp.Status, tp.Reason = Error, fmt.Sprintf("the live policy's %s %s holds a value that is not an IP or CIDR: %v", cond.Operator, cond.Key, err)
		return tp
	}
	tp.Actual = actual
	if in.Restore != nil {
		return restoreTarget(tp, owned, *in.Restore, in)
	}
	tp.Add, tp.Remove = ipset.Diff(actual, tp.Desired)
	for _, g := range guards {
		if reason := g(in, &tp); reason != "" {
			// Nothing is written, so nothing is "kept" either.
			tp.Status, tp.Reason, tp.Kept = Refused, reason, ipset.Set{}
			return tp
		}
	}
	if tp.Add.IsEmpty() && tp.Remove.IsEmpty() {
		tp.Status = InSync
		if in.Record != nil && !actual.Equal(in.Record.Written) {
			tp.Unrecorded = true
			tp.Add, tp.Remove = ipset.Diff(in.Record.Written, actual)
			tp.Reason = "already applied by an earlier run that stopped before recording it"
		}
		tp.Size = in.Limit.Size(in.Live) // as stored: the size the service counts
		return tp
	}
	rendered, err := policy.Render(owned.Rewrite(tp.Desired.Strings()), in.Limit)
	if err != nil {
		tp.Status, tp.Reason, tp.Kept = Refused, err.Error(), ipset.Set{}
		return tp
	}
	if in.Blocked != "" {
		tp.Status, tp.Kept = Blocked, ipset.Set{}
		tp.Reason = in.Blocked + UntilUnblock(in.Target.Name)
		return tp
	}
	tp.Status, tp.Document, tp.Size, tp.Form = Changes, rendered.Text, rendered.Size, rendered.Form
	// Drift: the policy no longer holds what ipsync left in it.
	tp.Drift = in.Record != nil && !actual.Equal(in.Record.Written)
	tp.Reason = changeReason(tp, in)
	return tp
}

// restoreTarget plans a target whose rollback an earlier run decided but
// may not have written: its only change is that restore, which no guard
// holds back (it puts back what the policy held before a change Atlas
// rejected), and it stays blocked.
func restoreTarget(tp TargetPlan, owned *policy.Owned, restore ipset.Set, in Input) TargetPlan {
	tp.Status, tp.Kept = Blocked, ipset.Set{}
	tp.Add, tp.Remove = ipset.Diff(tp.Actual, restore)
	if tp.Add.IsEmpty() && tp.Remove.IsEmpty() {
		tp.Reason = in.Blocked + "; the policy holds what it held before that change" + UntilUnblock(in.Target.Name)
		tp.Size = in.Limit.Size(in.Live)
		return tp
	}
	rendered, err := policy.Render(owned.Rewrite(restore.Strings()), in.Limit)
	if err != nil {
		tp.Status, tp.Reason = Error, "restoring the previous policy: "+err.Error()
		return tp
	}
	tp.Document, tp.Size, tp.Form, tp.Restore = rendered.Text, rendered.Size, rendered.Form, &restore
	tp.Reason = in.Blocked + "; the run that rolled it back stopped before restoring the policy: this run restores it (+/- below)" + UntilUnblock(in.Target.Name)
	return tp
}

// UntilUnblock ends the reason of a blocked target: what lifts the block.
func UntilUnblock(name string) string {
	return "; no change is made to it until `ipsync unblock " + name + "`"
}

// changeReason says why a target changes, in the words of what ipsync owns
// in it: a policy's owned statement, or an access list's managed entries,
// which follow NAT gateways rather than Atlas.
func changeReason(tp TargetPlan, in Input) string {
	list := in.Limit.Entries
	switch {
	case tp.FirstRun && list:
		return "first run: the managed entries are replaced with the desired addresses, whatever they held"
	case tp.FirstRun:
		return "first run: the owned statement is replaced with the desired addresses, whatever it held"
	case tp.Drift && list:
		return "drift: the managed entries were changed outside ipsync; restoring them"
	case tp.Drift:
		return "drift: the owned statement was changed outside ipsync; restoring it"
	case !in.Source.Equal(in.Record.Source) && list:
		return "the NAT gateways' addresses changed"
	case !in.Source.Equal(in.Record.Source):
		return "Atlas's addresses changed"
	}
	return "the desired set changed (static CIDRs, or the removal grace ended for addresses the sources no longer give)"
}

func withError(tp TargetPlan, err error, in Input) TargetPlan {
	tp.Status = Error
	var oe *policy.OwnershipError
	if errors.As(err, &oe) {
		tp.Reason = fmt.Sprintf("%s %s: %v. Add this statement to the policy (it already holds the desired addresses):\n%s",
			in.Target.Type, in.Target.Resource, err, policy.ExampleStatement(string(in.Target.Type), in.Target.Sid, tp.Desired.Strings()))
		return tp
	}
	tp.Reason = err.Error()
	return tp
}
