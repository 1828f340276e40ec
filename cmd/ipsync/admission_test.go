package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
)

// poison makes the simulator answer what admission must refuse: every
// IPv4 address in the control plane's outbound list, and a private range
// in a cluster's node list.
func poison(sim *atlastest.Server) {
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116", "0.0.0.0/0"}}}})
	sim.SetProject(project, atlastest.Cluster{ClusterName: "prod", Inbound: []string{"10.0.0.0/8"}})
}

func TestFetchPrintsAdmissionsVerdicts(t *testing.T) {
	sim := startSim(t)
	poison(sim)
	cfg := writeConfig(t, baseConfig(sim))
	r := ipsync(t, keyEnv, "fetch", "--config", cfg)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"refused: Atlas's answer holds 2 prefix(es) admission refuses",
		"  controlPlane.outbound.aws.us-east-1: 0.0.0.0/0 is broader than guards.widestPrefix (/24)\n",
		"  project " + project + " cluster prod inbound: 10.0.0.0/8 is a private range\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	j := ipsync(t, keyEnv, "fetch", "--config", cfg, "--json")
	var doc struct {
		Hash    string
		Refused []struct{ Source, Prefix, Rule, Range string }
	}
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil || j.code != exitOK {
		t.Fatalf("exit %d: %v\n%s", j.code, err, j.stdout)
	}
	got, _ := json.Marshal(doc.Refused)
	want := `[{"Source":"controlPlane.outbound.aws.us-east-1","Prefix":"0.0.0.0/0","Rule":"broader","Range":""},{"Source":"project ` + project + ` cluster prod inbound","Prefix":"10.0.0.0/8","Rule":"private","Range":"10.0.0.0/8"}]`
	if string(got) != want || !strings.HasPrefix(doc.Hash, "sha256:") {
		t.Fatalf("refused %s\nwant     %s", got, want)
	}
	// A clean answer carries no verdicts at all.
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229"}}}})
	sim.SetProject(project, atlastest.Cluster{ClusterName: "prod", Inbound: []string{"192.0.2.10"}})
	if r := ipsync(t, keyEnv, "fetch", "--config", cfg, "--json"); strings.Contains(r.stdout, `"refused"`) {
		t.Fatalf("a clean answer has verdicts:\n%s", r.stdout)
	}
}

// The first case on the local stack: an outbound list with
// 0.0.0.0/0 is refused, exit 3, nothing written; plan --json carries the
// verdicts as fields; the next admitted answer finds the key as it was.
func TestAPoisonedAnswerIsRefusedAndWritesNothing(t *testing.T) {
	sim, cfg := planStack(t)
	if r := ipsync(t, keyEnv, "apply", "--config", cfg); r.code != exitOK {
		t.Fatalf("first apply: exit %d\n%s", r.code, r.stdout)
	}
	poison(sim)
	for _, cmd := range []string{"plan", "apply"} {
		r := ipsync(t, keyEnv, cmd, "--config", cfg)
		if r.code != exitRefused || !strings.Contains(r.stdout, "controlPlane.outbound.aws.us-east-1: 0.0.0.0/0 is broader than guards.widestPrefix (/24)") ||
			!strings.Contains(r.stdout, "Refused: nothing was written") || strings.Contains(r.stdout, "+ ") {
			t.Fatalf("%s: exit %d\n%s", cmd, r.code, r.stdout)
		}
	}
	j := ipsync(t, keyEnv, "plan", "--config", cfg, "--json")
	var doc struct {
		Status  string
		Targets []struct {
			Status          string
			RefusedPrefixes []struct{ Source, Prefix, Rule string } `json:"refusedPrefixes"`
		}
	}
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil || j.code != exitRefused || doc.Status != "refused" || len(doc.Targets) != 1 {
		t.Fatalf("exit %d %v\n%s", j.code, err, j.stdout)
	}
	if v := doc.Targets[0].RefusedPrefixes; doc.Targets[0].Status != "refused" || len(v) != 1 || v[0].Prefix != "0.0.0.0/0" || v[0].Rule != "broader" || v[0].Source != "controlPlane.outbound.aws.us-east-1" {
		t.Fatalf("target %+v", doc.Targets[0])
	}
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116"}}}})
	if r := ipsync(t, keyEnv, "plan", "--config", cfg); r.code != exitOK || !strings.Contains(r.stdout, "Everything is in sync") {
		t.Fatalf("after the answer is clean again: exit %d\n%s", r.code, r.stdout)
	}
}
