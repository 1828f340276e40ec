package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const project = "5aec7afbf7d068e35a39809b"

type result struct {
	code           int
	stdout, stderr string
}

func ipsync(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

// startSim serves the real control-plane fixture and one project.
func startSim(t *testing.T) *atlastest.Server {
	t.Helper()
	sim := atlastest.New()
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	var cp atlastest.ControlPlaneIPs
	if err := json.Unmarshal(testenv.ReadTestdata(t, "atlas/fixtures/control-plane-ip-addresses.real.json"), &cp); err != nil {
		t.Fatal(err)
	}
	sim.SetControlPlane(cp)
	sim.AddAPIKey("pub", "priv-S3CRET")
	sim.SetProject(project, atlastest.Cluster{ClusterName: "Cluster0", Inbound: []string{"192.0.2.10", "192.0.2.11"}, Outbound: []string{"198.51.100.10"}, FutureOutbound: []string{"198.51.100.11"}})
	return sim
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ipsync.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func baseConfig(sim *atlastest.Server) string {
	return "atlas:\n  baseURL: " + sim.URL() + "\n  projects: [\"" + project + "\"]\n"
}

var keyEnv = map[string]string{"ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": "priv-S3CRET"}

// assertJSONLogs checks that every stderr line but the final plain sentence is a JSON object.
func assertJSONLogs(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line == "" || strings.HasPrefix(line, "ipsync: ") {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
		}
	}
}

func TestFetchHumanOutput(t *testing.T) {
	sim := startSim(t)
	cfg := writeConfig(t, baseConfig(sim))
	r := ipsync(t, keyEnv, "fetch", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"Control plane, outbound", "aws/us-east-1", "3.92.113.229/32", "aws/ap-northeast-1",
		"Project " + project + ": 1 cluster(s)", "Cluster0", "192.0.2.10/31", "futureOutbound  198.51.100.11/32",
		"snapshot hash sha256:",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "{") {
		t.Errorf("log lines on stdout:\n%s", r.stdout)
	}
	assertJSONLogs(t, r.stderr)
	if strings.Contains(r.stderr, "S3CRET") {
		t.Errorf("private key in logs: %s", r.stderr)
	}
}

func TestFetchJSONIsTheSnapshot(t *testing.T) {
	sim := startSim(t)
	cfg := writeConfig(t, baseConfig(sim))
	r := ipsync(t, keyEnv, "fetch", "--config", cfg, "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s, err := snapshot.Unmarshal([]byte(r.stdout))
	if err != nil {
		t.Fatalf("stdout is not a valid snapshot: %v\n%s", err, r.stdout)
	}
	if got := s.ControlPlane.Outbound["aws"]["us-east-1"].Len(); got != 12 {
		t.Errorf("us-east-1 outbound = %d, want 12", got)
	}
	if time.Since(s.FetchedAt) > time.Minute {
		t.Errorf("fetchedAt = %v", s.FetchedAt)
	}
	// Fetch writes nothing: no snapshot appeared at the default location.
	if _, err := os.Stat(".ipsync"); err == nil {
		t.Error("fetch created .ipsync/")
	}
}

func TestFetchWarnsOnEmptyControlPlane(t *testing.T) {
	sim := startSim(t)
	sim.SetControlPlane(atlastest.ControlPlaneIPs{})
	r := ipsync(t, keyEnv, "fetch", "--config", writeConfig(t, baseConfig(sim)))
	if r.code != 0 || !strings.Contains(r.stdout, "warning: Atlas listed no control-plane outbound addresses") {
		t.Fatalf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
}

func TestFetchCredentialsFromSecretsManager(t *testing.T) {
	moto := testenv.SharedMoto(t)
	sim := startSim(t)
	t.Setenv("AWS_ENDPOINT_URL", moto.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	sm := secretsmanager.NewFromConfig(moto.AWSConfig(t))
	name := "ipsync/atlas-cli-" + time.Now().Format("150405.000000")
	value := `{"publicKey":"pub","privateKey":"priv-S3CRET"}`
	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value}); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, baseConfig(sim)+"  credentials:\n    secretId: "+name+"\n")
	r := ipsync(t, nil, "fetch", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if sim.Calls(atlastest.GroupIPs) != 1 {
		t.Fatalf("project calls = %d", sim.Calls(atlastest.GroupIPs))
	}
	missing := writeConfig(t, baseConfig(sim)+"  credentials:\n    secretId: ipsync/nope\n")
	r = ipsync(t, nil, "fetch", "--config", missing)
	if r.code != 1 || !strings.Contains(r.stderr, "ipsync/nope") || !strings.Contains(r.stderr, "not found") {
		t.Fatalf("missing secret: exit %d: %s", r.code, r.stderr)
	}
}

func TestFetchErrors(t *testing.T) {
	sim := startSim(t)
	good := writeConfig(t, baseConfig(sim))
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		stderr []string
	}{
		{"wrong key", map[string]string{"ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": "bad-S3CRET"}, []string{"fetch", "--config", good}, []string{"401", "check the credentials"}},
		{"no credentials", nil, []string{"fetch", "--config", good}, []string{"ATLAS_PUBLIC_KEY"}},
		{"missing config", keyEnv, []string{"fetch", "--config", "/nonexistent/ipsync.yaml"}, []string{"read config"}},
		{"bad config", keyEnv, []string{"fetch", "--config", writeConfig(t, "atlas:\n  projects: [nope]\n")}, []string{`"nope" is not a project id`}},
		{"unknown flag", keyEnv, []string{"fetch", "--bogus"}, []string{"flag provided but not defined"}},
		{"stray argument", keyEnv, []string{"fetch", "--config", good, "extra"}, []string{"unexpected arguments"}},
		{"unknown command", keyEnv, []string{"fletch"}, []string{`unknown command "fletch"`}},
		{"no command", keyEnv, nil, []string{"usage: ipsync"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ipsync(t, tt.env, tt.args...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout on error: %q", r.stdout)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "S3CRET") {
				t.Errorf("a private key reached stderr: %s", r.stderr)
			}
		})
	}
}

func TestSnapshotCommand(t *testing.T) {
	sim := startSim(t)
	path := filepath.Join(t.TempDir(), "snap.json")
	cfg := writeConfig(t, baseConfig(sim)+"snapshot:\n  url: file://"+path+"\n")
	if r := ipsync(t, keyEnv, "snapshot", "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "no snapshot stored yet") {
		t.Fatalf("empty store: exit %d: %s", r.code, r.stderr)
	}
	fetched := ipsync(t, keyEnv, "fetch", "--config", cfg, "--json")
	s, err := snapshot.Unmarshal([]byte(fetched.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snapshotstore.NewFileStore(path).Save(context.Background(), s, ""); err != nil {
		t.Fatal(err)
	}
	r := ipsync(t, keyEnv, "snapshot", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	back, err := snapshot.Unmarshal([]byte(r.stdout))
	if err != nil || back.Hash != s.Hash {
		t.Fatalf("printed snapshot: %v", err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
