package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// planStack is a KMS key with a placeholder in moto, the simulator, and a
// config that owns the key's statement.
func planStack(t *testing.T) (sim *atlastest.Server, cfg string) {
	t.Helper()
	moto := testenv.SharedMoto(t)
	t.Setenv("AWS_ENDPOINT_URL", moto.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	key := testenv.CreateKey(t, moto.AWSConfig(t), testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	sim = startSim(t)
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116"}}}})
	cfg = writeConfig(t, baseConfig(sim)+`snapshot:
  url: file://`+filepath.Join(t.TempDir(), "snapshot.json")+`
targets:
  - name: atlas-ear-key
    type: kms-key-policy
    resource: `+key+`
    sid: AtlasIPAllowList
`)
	return sim, cfg
}

func TestPlanAndApply(t *testing.T) {
	sim, cfg := planStack(t)
	r := ipsync(t, keyEnv, "plan", "--config", cfg)
	if r.code != exitChanges {
		t.Fatalf("plan: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"+ 3.92.113.229/32", "+ 3.212.79.116/32", "- 192.0.2.0/32", "first run", "[changes]", "Nothing was written", "policy size:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
	assertJSONLogs(t, r.stderr)

	j := ipsync(t, keyEnv, "plan", "--config", cfg, "--json")
	var doc struct {
		Status   string
		Snapshot struct {
			Hash    string
			Changed bool
		}
		Targets []struct {
			Name, Type, Resource, Status, Reason string
			Add, Remove                          []string
		}
	}
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil {
		t.Fatalf("--json is not one JSON document: %v\n%s", err, j.stdout)
	}
	if j.code != exitChanges || doc.Status != "changes" || !doc.Snapshot.Changed || !strings.HasPrefix(doc.Snapshot.Hash, "sha256:") ||
		len(doc.Targets) != 1 || doc.Targets[0].Status != "changes" || strings.Join(doc.Targets[0].Add, ",") != "3.92.113.229/32,3.212.79.116/32" || strings.Join(doc.Targets[0].Remove, ",") != "192.0.2.0/32" {
		t.Fatalf("exit %d, document %+v", j.code, doc)
	}

	saved := filepath.Join(t.TempDir(), "plan.json")
	if r := ipsync(t, keyEnv, "plan", "--config", cfg, "--out", saved); r.code != exitChanges {
		t.Fatalf("plan --out: %d %s", r.code, r.stderr)
	}
	// Atlas moves between plan and apply: the saved plan is refused.
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116", "44.210.7.7"}}}})
	stale := ipsync(t, keyEnv, "apply", "--config", cfg, "--plan", saved)
	if stale.code != exitRefused || !strings.Contains(stale.stderr, "Atlas's answer changed") {
		t.Fatalf("stale apply: exit %d\n%s\n%s", stale.code, stale.stdout, stale.stderr)
	}
	if r := ipsync(t, keyEnv, "plan", "--config", cfg, "--out", saved); r.code != exitChanges {
		t.Fatalf("re-plan: %d", r.code)
	}
	a := ipsync(t, keyEnv, "apply", "--config", cfg, "--plan", saved)
	if a.code != exitOK || !strings.Contains(a.stdout, "[applied]") || !strings.Contains(a.stdout, "Applied: 1 changed") {
		t.Fatalf("apply: exit %d\n%s\n%s", a.code, a.stdout, a.stderr)
	}
	if r := ipsync(t, keyEnv, "plan", "--config", cfg); r.code != exitOK || !strings.Contains(r.stdout, "Everything is in sync") {
		t.Fatalf("plan after apply: exit %d\n%s", r.code, r.stdout)
	}
	if r := ipsync(t, keyEnv, "apply", "--config", cfg); r.code != exitOK {
		t.Fatalf("no-op apply: exit %d", r.code)
	}
}

func TestRefusedAndErrorExitCodes(t *testing.T) {
	sim, cfg := planStack(t)
	sim.SetControlPlane(atlastest.ControlPlaneIPs{})
	for _, cmd := range []string{"plan", "apply"} {
		r := ipsync(t, keyEnv, cmd, "--config", cfg)
		if r.code != exitRefused || !strings.Contains(r.stdout, "minAddresses") || !strings.Contains(r.stdout, "Refused: nothing was written") {
			t.Fatalf("%s on an empty answer: exit %d\n%s", cmd, r.code, r.stdout)
		}
	}
	sim.RemoveProject(project)
	r := ipsync(t, keyEnv, "plan", "--config", cfg, "--json")
	var doc struct{ Status, Error string }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != exitError || doc.Status != "error" || !strings.Contains(doc.Error, "GROUP_NOT_FOUND") {
		t.Fatalf("Atlas error: exit %d %+v %v", r.code, doc, err)
	}
}

func TestMissingSidExitsOneWithTheStatement(t *testing.T) {
	_, cfg := planStack(t)
	bad := strings.Replace(readFile(t, cfg), "sid: AtlasIPAllowList", "sid: NotThere", 1)
	r := ipsync(t, keyEnv, "plan", "--config", writeConfig(t, bad))
	if r.code != exitError || !strings.Contains(r.stdout, `no statement has this Sid`) || !strings.Contains(r.stdout, `"Sid": "NotThere"`) || !strings.Contains(r.stdout, `"aws:SourceIp": ["3.92.113.229/32","3.212.79.116/32"]`) {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}
