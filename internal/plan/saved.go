package plan

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Saved is a plan written by `ipsync plan --out`: what Atlas said (its hash)
// and, per target, what the policy held and what was to be written.
// `ipsync apply --plan` applies only while both still hold.
type Saved struct {
	Version      int           `json:"version"`
	SnapshotHash string        `json:"snapshotHash"`
	Targets      []SavedTarget `json:"targets"`
}

// SavedTarget is one target of a saved plan.
type SavedTarget struct {
	Name     string      `json:"name"`
	Type     target.Type `json:"type"`
	Resource string      `json:"resource"`
	Status   string      `json:"status"`
	Actual   ipset.Set   `json:"actual"`
	Desired  ipset.Set   `json:"desired"`
}

const savedVersion = 1

// Save turns a dry run's plan (Atlas's answer by its hash, and the
// targets' plans) into a saved plan.
func Save(hash string, targets []TargetPlan) Saved {
	s := Saved{Version: savedVersion, SnapshotHash: hash}
	for _, t := range targets {
		s.Targets = append(s.Targets, SavedTarget{Name: t.Name, Type: t.Type, Resource: t.Resource, Status: string(t.Status), Actual: t.Actual, Desired: t.Desired})
	}
	return s
}

// ParseSaved reads a saved plan strictly.
func ParseSaved(b []byte) (*Saved, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var s Saved
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("read saved plan: %w", err)
	}
	if s.Version != savedVersion {
		return nil, fmt.Errorf("read saved plan: version %d, this ipsync reads %d", s.Version, savedVersion)
	}
	return &s, nil
}

// Moved says what changed between the saved plan and a fresh one (its
// Atlas hash and targets), or "".
func (s *Saved) Moved(hash string, targets []TargetPlan) string {
	var moved []string
	if hash != s.SnapshotHash {
		moved = append(moved, fmt.Sprintf("Atlas's answer changed (snapshot %s, saved %s)", short(hash), short(s.SnapshotHash)))
	}
	fresh := map[string]int{}
	for i, t := range targets {
		fresh[t.Name] = i
	}
	for _, st := range s.Targets {
		i, ok := fresh[st.Name]
		if !ok {
			moved = append(moved, fmt.Sprintf("target %s is no longer configured", st.Name))
			continue
		}
		t := targets[i]
		if t.Type != st.Type || t.Resource != st.Resource {
			moved = append(moved, fmt.Sprintf("target %s now points at %s %s", st.Name, t.Type, t.Resource))
		}
		if add, rm := ipset.Diff(st.Actual, t.Actual); !add.IsEmpty() || !rm.IsEmpty() {
			moved = append(moved, fmt.Sprintf("target %s: the live policy changed since the plan (+%v -%v)", st.Name, add, rm))
		}
		if add, rm := ipset.Diff(st.Desired, t.Desired); !add.IsEmpty() || !rm.IsEmpty() {
			moved = append(moved, fmt.Sprintf("target %s: the desired set changed since the plan (+%v -%v)", st.Name, add, rm))
		}
		delete(fresh, st.Name)
	}
	for name := range fresh {
		moved = append(moved, fmt.Sprintf("target %s was not in the saved plan", name))
	}
	return strings.Join(moved, "; ")
}

func short(h string) string {
	if len(h) > 19 {
		return h[:19]
	}
	return h
}
