// Package notify decides which alerts a run sends and publishes them to SNS.
//
// Changes (applied, drift) are sent every time they happen. Trouble (refused,
// failed) is sent on the transition into it, so a failure repeated by every
// scheduled run pages once, and recovery is sent on the way out. The last
// state per target is kept in the snapshot.
package notify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Event is the SNS message attribute "event".
type Event string

// Events.
const (
	Applied   Event = "applied"
	Drift     Event = "drift"
	Refused   Event = "refused"
	Failed    Event = "failed"
	Recovered Event = "recovered"
	// RolledBack: Atlas lost encryption at rest after a change, and the
	// previous policy was restored; the target is blocked.
	RolledBack Event = "rolled-back"
	// Blocked: a target has changes it may not take until `ipsync unblock`.
	Blocked Event = "blocked"
	// EncryptionInvalid: before a change, Atlas already reported that it
	// cannot use the key.
	EncryptionInvalid Event = "encryption-invalid"
)

// AlertState is what on-call was last told of a target, or of the run.
type AlertState string

// States remembered between runs; in sync is no state at all.
const (
	stateRefused AlertState = "refused"
	stateFailed  AlertState = "failed"
	stateBlocked AlertState = "blocked"
)

// State is the alert memory kept between runs. The run's own state is kept
// apart from the targets', so that no target's name can stand for the run.
type State struct {
	Run     AlertState            // stateFailed after a run that failed as a whole
	Targets map[string]AlertState // by target name
}

// Equal reports whether two states remember the same.
func (s State) Equal(o State) bool {
	if s.Run != o.Run || len(s.Targets) != len(o.Targets) {
		return false
	}
	for k, v := range s.Targets {
		if w, ok := o.Targets[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// RunKey is the Key of an alert about the run as a whole (Atlas down,
// snapshot unreadable), which concerns every target. It names the alert
// only; State keeps the run's memory apart from the targets'.
const RunKey = "run"

// Alert is one message to on-call.
type Alert struct {
	Event   Event
	Key     string // target name, or RunKey
	Subject string // at most 100 characters
	Body    string
}

// words are the outcome's Words, a policy's when none are given.
func (o Outcome) words() target.Words {
	if o.Words.Part == "" {
		return target.Statement
	}
	return o.Words
}

// Outcome is how one target ended a run.
type Outcome struct {
	Target plan.Target
	Status plan.Status // applied, in-sync, changes (dry run), refused, error
	Add    ipset.Set
	Remove ipset.Set
	Kept   ipset.Set
	Reason string
	Drift  bool
	// Words are how the alert names what ipsync owns in the target (its
	// kind's): the owned statement, the managed entries.
	Words target.Words
	// Unrecorded: in sync because an earlier run wrote the change and
	// stopped before announcing it; it is announced now, as applied.
	Unrecorded bool
	// InvalidBefore and InvalidAfter are the projects that reported
	// encryption at rest invalid before and after the change.
	InvalidBefore []string
	InvalidAfter  []string
}

// Decide returns the alerts to send and the state to remember. runErr is a
// failure before any target could be planned; then outcomes are ignored.
func Decide(prev State, outcomes []Outcome, runErr error) ([]Alert, State) {
	next := State{Run: prev.Run, Targets: map[string]AlertState{}}
	for k, v := range prev.Targets {
		next.Targets[k] = v
	}
	var alerts []Alert
	if runErr != nil {
		if prev.Run != stateFailed {
			alerts = append(alerts, Alert{Event: Failed, Key: RunKey,
				Subject: subject("ipsync FAILED: the run stopped before any write"),
				Body:    "The run failed before planning any target; nothing was written and the previous snapshot is kept.\n\nError: " + runErr.Error() + "\n\nipsync retries on the next run and tells you when it recovers.\n"})
		}
		next.Run = stateFailed
		return alerts, next
	}
	if prev.Run == stateFailed {
		alerts = append(alerts, Alert{Event: Recovered, Key: RunKey, Subject: subject("ipsync recovered: runs complete again"), Body: "The run completed again after earlier failures.\n"})
	}
	next.Run = ""
	for _, o := range outcomes {
		name := o.Target.Name
		was := prev.Targets[name]
		if len(o.InvalidBefore) > 0 {
			alerts = append(alerts, invalidBefore(o))
		}
		switch o.Status {
		case plan.RolledBack:
			alerts = append(alerts, rolledBack(o))
			next.Targets[name] = stateBlocked
			continue
		case plan.Blocked:
			if was != stateBlocked {
				alerts = append(alerts, Alert{Event: Blocked, Key: name,
					Subject: subject(fmt.Sprintf("ipsync BLOCKED %s: changes wait for ipsync unblock", name)), Body: body(o, "This target is blocked after a rollback: until `ipsync unblock`, the only write ipsync makes to it is finishing that rollback (the reason says whether this run did).")})
			}
			next.Targets[name] = stateBlocked
			continue
		}
		switch o.Status {
		case plan.Refused:
			if was != stateRefused {
				alerts = append(alerts, Alert{Event: Refused, Key: name,
					Subject: subject(fmt.Sprintf("ipsync REFUSED %s: nothing written", name)), Body: body(o, "A safety guard refused this run: nothing was written to any target and the previous snapshot is kept.")})
			}
			next.Targets[name] = stateRefused
		case plan.Error:
			if was != stateFailed {
				alerts = append(alerts, Alert{Event: Failed, Key: name,
					Subject: subject(fmt.Sprintf("ipsync FAILED %s", name)), Body: body(o, "This target could not be brought in sync; it is retried every run.")})
			}
			next.Targets[name] = stateFailed
		case plan.Changes:
			// Planned but not applied (a dry run, or another target's refusal
			// stopped the run): nothing happened to this target.
		default:
			if was == stateRefused || was == stateFailed || was == stateBlocked {
				alerts = append(alerts, Alert{Event: Recovered, Key: name,
					Subject: subject(fmt.Sprintf("ipsync recovered %s", name)), Body: body(o, "This target is in sync again.")})
			}
			delete(next.Targets, name)
			if o.Status == plan.Applied || o.Unrecorded {
				ev, what := Applied, o.words().Updated
				if o.Drift {
					ev, what = Drift, o.words().DriftRestored()
				}
				alerts = append(alerts, Alert{Event: ev, Key: name,
					Subject: subject(fmt.Sprintf("ipsync %s %s: +%d -%d", ev, name, o.Add.Len(), o.Remove.Len())), Body: body(o, what)})
			}
		}
	}
	sort.SliceStable(alerts, func(i, j int) bool { return alerts[i].Key < alerts[j].Key })
	return alerts, next
}

func subject(s string) string {
	if len(s) <= 100 {
		return s
	}
	return s[:97] + "..."
}

func body(o Outcome, headline string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\ntarget:   %s (%s %s)\nstatus:   %s\n", headline, o.Target.Name, o.Target.Type, o.Target.Resource, o.Status)
	if o.Reason != "" {
		fmt.Fprintf(&b, "reason:   %s\n", o.Reason)
	}
	if !o.Add.IsEmpty() || !o.Remove.IsEmpty() {
		b.WriteString("\n")
		for _, p := range o.Add.Strings() {
			fmt.Fprintf(&b, "+ %s\n", p)
		}
		for _, p := range o.Remove.Strings() {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	if !o.Kept.IsEmpty() {
		fmt.Fprintf(&b, "\nkept during the removal grace: %s\n", strings.Join(o.Kept.Strings(), " "))
	}
	return b.String()
}

// part names what ipsync owns in the target, for a sentence.
func part(w target.Words) string {
	if w.Part == "" {
		return target.Statement.Part
	}
	return w.Part
}

func rolledBack(o Outcome) Alert {
	var b strings.Builder
	// The provider's field is awsKms, googleCloudKms or azureKeyVault: the
	// words are the kind's, so that the alert fits every one.
	fmt.Fprintf(&b, "Atlas reported that encryption at rest can no longer use its key (valid false for project(s) %s) after ipsync changed %s. What the fence held before was restored at once and verified.\n\n", strings.Join(o.InvalidAfter, ", "), part(o.Words))
	fmt.Fprintf(&b, "target:   %s (%s %s)\nstatus:   %s\n", o.Target.Name, o.Target.Type, o.Target.Resource, o.Status)
	b.WriteString("\nThe change that was made:\n")
	writeDiff(&b, o.Add, o.Remove)
	b.WriteString("\nThe rollback (undoes it):\n")
	writeDiff(&b, o.Remove, o.Add)
	fmt.Fprintf(&b, "\nThe target is blocked: no change is made to it until a human runs `ipsync unblock %s`. Check the key (enabled, not pending deletion), the role Atlas assumes, and which of the addresses above Atlas needs; then unblock.\n", o.Target.Name)
	return Alert{Event: RolledBack, Key: o.Target.Name,
		Subject: subject(fmt.Sprintf("ipsync ROLLED BACK %s: Atlas lost encryption at rest", o.Target.Name)), Body: b.String()}
}

func invalidBefore(o Outcome) Alert {
	var b strings.Builder
	fmt.Fprintf(&b, "Before changing %s, Atlas already reported that encryption at rest cannot use its key (valid false for project(s) %s).\n\n", part(o.Words), strings.Join(o.InvalidBefore, ", "))
	fmt.Fprintf(&b, "target:   %s (%s %s)\n", o.Target.Name, o.Target.Type, o.Target.Resource)
	if o.Add.IsEmpty() {
		b.WriteString("\nThe live policy already allows every address Atlas lists: the cause is elsewhere (the key disabled or pending deletion, the role Atlas assumes, another statement denying it).\n")
	} else {
		b.WriteString("\nLikely cause: the live policy lacks these addresses Atlas lists:\n")
		for _, p := range o.Add.Strings() {
			fmt.Fprintf(&b, "+ %s\n", p)
		}
		fmt.Fprintf(&b, "\nipsync is adding them now (status: %s).\n", o.Status)
	}
	return Alert{Event: EncryptionInvalid, Key: o.Target.Name,
		Subject: subject(fmt.Sprintf("ipsync: encryption at rest INVALID for %s before the change", o.Target.Name)), Body: b.String()}
}

func writeDiff(b *strings.Builder, add, remove ipset.Set) {
	if add.IsEmpty() && remove.IsEmpty() {
		b.WriteString("  (no address)\n")
	}
	for _, p := range add.Strings() {
		fmt.Fprintf(b, "+ %s\n", p)
	}
	for _, p := range remove.Strings() {
		fmt.Fprintf(b, "- %s\n", p)
	}
}
