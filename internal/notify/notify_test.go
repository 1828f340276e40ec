package notify

import (
	"errors"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
)

func outcome(name string, s plan.Status) Outcome {
	return Outcome{Target: plan.Target{Name: name, Type: "kms-key-policy", Resource: "k-1"}, Status: s, Reason: "because"}
}

func events(as []Alert) string {
	var out []string
	for _, a := range as {
		out = append(out, string(a.Event)+":"+a.Key)
	}
	return strings.Join(out, ",")
}

func TestDecide(t *testing.T) {
	applied := outcome("a", plan.Applied)
	applied.Add = ipset.MustParse("4.4.4.4")
	drift := applied
	drift.Drift = true
	tests := []struct {
		name   string
		prev   map[string]string
		in     []Outcome
		runErr error
		want   string
		state  map[string]string
	}{
		{"quiet in-sync run", nil, []Outcome{outcome("a", plan.InSync)}, nil, "", map[string]string{}},
		{"applied every time", nil, []Outcome{applied}, nil, "applied:a", map[string]string{}},
		{"drift", nil, []Outcome{drift}, nil, "drift:a", map[string]string{}},
		{"a change an earlier run left unannounced", nil, []Outcome{{Target: plan.Target{Name: "a"}, Status: plan.InSync, Unrecorded: true, Add: ipset.MustParse("4.4.4.4")}}, nil, "applied:a", map[string]string{}},
		{"first refusal pages", nil, []Outcome{outcome("a", plan.Refused)}, nil, "refused:a", map[string]string{"a": "refused"}},
		{"repeated refusal is quiet", map[string]string{"a": "refused"}, []Outcome{outcome("a", plan.Refused)}, nil, "", map[string]string{"a": "refused"}},
		{"failure pages once", nil, []Outcome{outcome("a", plan.Error)}, nil, "failed:a", map[string]string{"a": "failed"}},
		{"repeated failure is quiet", map[string]string{"a": "failed"}, []Outcome{outcome("a", plan.Error)}, nil, "", map[string]string{"a": "failed"}},
		{"recovery", map[string]string{"a": "failed"}, []Outcome{outcome("a", plan.InSync)}, nil, "recovered:a", map[string]string{}},
		{"recovery with a change", map[string]string{"a": "refused"}, []Outcome{applied}, nil, "recovered:a,applied:a", map[string]string{}},
		{"planned but not applied keeps the state", map[string]string{"a": "failed"}, []Outcome{outcome("a", plan.Changes)}, nil, "", map[string]string{"a": "failed"}},
		{"run failure pages once", nil, nil, errors.New("atlas down"), "failed:run", map[string]string{runState: "failed"}},
		{"run failure again is quiet", map[string]string{runState: "failed"}, nil, errors.New("atlas down"), "", map[string]string{runState: "failed"}},
		{"run recovers", map[string]string{runState: "failed"}, []Outcome{outcome("a", plan.InSync)}, nil, "recovered:run", map[string]string{}},
		{"a rollback pages and blocks", nil, []Outcome{outcome("a", plan.RolledBack)}, nil, "rolled-back:a", map[string]string{"a": "blocked"}},
		{"a rollback pages even when blocked before", map[string]string{"a": "blocked"}, []Outcome{outcome("a", plan.RolledBack)}, nil, "rolled-back:a", map[string]string{"a": "blocked"}},
		{"blocked stays quiet", map[string]string{"a": "blocked"}, []Outcome{outcome("a", plan.Blocked)}, nil, "", map[string]string{"a": "blocked"}},
		{"blocked without a rollback seen pages once", nil, []Outcome{outcome("a", plan.Blocked)}, nil, "blocked:a", map[string]string{"a": "blocked"}},
		// A target may be called "run": its state is its own.
		{"a target named run fails again", map[string]string{"run": "failed"}, []Outcome{outcome("run", plan.Error)}, nil, "", map[string]string{"run": "failed"}},
		{"a target named run fails while the run recovers", map[string]string{runState: "failed"}, []Outcome{outcome("run", plan.Error)}, nil, "recovered:run,failed:run", map[string]string{"run": "failed"}},
		{"unblocked and applied", map[string]string{"a": "blocked"}, []Outcome{applied}, nil, "recovered:a,applied:a", map[string]string{}},
		{"invalid before the change", nil, []Outcome{{Target: plan.Target{Name: "a"}, Status: plan.Applied, Add: ipset.MustParse("4.4.4.4"), InvalidBefore: []string{"p"}}}, nil, "encryption-invalid:a,applied:a", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, state := Decide(toState(tt.prev), tt.in, tt.runErr)
			if got := events(alerts); got != tt.want {
				t.Errorf("alerts %q, want %q", got, tt.want)
			}
			if !state.Equal(toState(tt.state)) {
				t.Errorf("state %+v, want %v", state, tt.state)
			}
			for _, a := range alerts {
				if len(a.Subject) > 100 || a.Subject == "" {
					t.Errorf("subject %q", a.Subject)
				}
			}
		})
	}
}

func TestBodyAndSubject(t *testing.T) {
	o := outcome("atlas-ear-key-with-a-very-long-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on", plan.Applied)
	o.Add, o.Remove, o.Kept = ipset.MustParse("4.4.4.4", "5.5.5.5"), ipset.MustParse("6.6.6.6"), ipset.MustParse("7.7.7.7")
	alerts, _ := Decide(State{}, []Outcome{o}, nil)
	a := alerts[0]
	if len(a.Subject) > 100 || !strings.HasPrefix(a.Subject, "ipsync applied atlas-ear-key") {
		t.Errorf("subject %q (%d)", a.Subject, len(a.Subject))
	}
	for _, want := range []string{"+ 4.4.4.4/32\n", "+ 5.5.5.5/32\n", "- 6.6.6.6/32\n", "kept during the removal grace: 7.7.7.7/32", "reason:   because", "kms-key-policy k-1"} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, a.Body)
		}
	}
}

// The headline names what changed: a policy, or an access list's managed
// entries; why is the reason line below it.
func TestAppliedHeadlines(t *testing.T) {
	for _, tt := range []struct {
		typ   string
		drift bool
		want  string
	}{
		{"kms-key-policy", false, "The policy was updated and verified.\n"},
		{"kms-key-policy", true, "The owned statement had been changed outside ipsync; it was restored and verified.\n"},
		{"atlas-access-list", false, "The access list's managed entries were updated and verified.\n"},
		{"atlas-access-list", true, "The managed entries had been changed outside ipsync; they were restored and verified.\n"},
	} {
		o := outcome("t", plan.Applied)
		o.Target.Type, o.Drift, o.Add = target.Type(tt.typ), tt.drift, ipset.MustParse("4.4.4.4")
		if tt.typ == "atlas-access-list" {
			o.Words = atlasaccesslist.Kind{}.Words()
		}
		alerts, _ := Decide(State{}, []Outcome{o}, nil)
		if len(alerts) != 1 || !strings.HasPrefix(alerts[0].Body, tt.want) {
			t.Errorf("%s drift=%v: %+v, want a body starting %q", tt.typ, tt.drift, alerts, tt.want)
		}
	}
}

func TestRollbackAndInvalidBodies(t *testing.T) {
	o := Outcome{Target: plan.Target{Name: "key", Type: "kms-key-policy", Resource: "k-1"}, Status: plan.RolledBack,
		Add: ipset.MustParse("4.4.4.4"), Remove: ipset.MustParse("5.5.5.5"), InvalidAfter: []string{"p1"}}
	a := rolledBack(o)
	change, undo, ok := strings.Cut(a.Body, "The rollback (undoes it):")
	if !ok || !strings.Contains(change, "+ 4.4.4.4/32\n- 5.5.5.5/32") || !strings.Contains(undo, "+ 5.5.5.5/32\n- 4.4.4.4/32") || !strings.Contains(a.Body, "ipsync unblock key") || !strings.Contains(a.Body, "p1") {
		t.Fatalf("rolled-back body:\n%s", a.Body)
	}
	o.Add = ipset.Set{}
	if b := invalidBefore(o).Body; !strings.Contains(b, "the cause is elsewhere") {
		t.Fatalf("invalid body with nothing missing:\n%s", b)
	}
}

// runState stands for the run's own state in the tables (no target is
// called that: it has a space).
const runState = "(the run)"

func toState(m map[string]string) State {
	s := State{Targets: map[string]AlertState{}}
	for k, v := range m {
		if k == runState {
			s.Run = AlertState(v)
			continue
		}
		s.Targets[k] = AlertState(v)
	}
	return s
}
