package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// A GCP service-account key and the access tokens it buys never appear in
// what ipsync prints or logs: plans, applies, a token endpoint that refuses
// the key, an API that refuses the token.
func TestNoGCPSecretLeaks(t *testing.T) {
	moto := testenv.SharedMoto(t)
	t.Setenv("AWS_ENDPOINT_URL", moto.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	suffix := fmt.Sprint(time.Now().UnixNano())
	g, err := gcptest.New(filepath.Join(testenv.Testdata(t), "gcp", "accesscontextmanager-v1-discovery.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	const level = "accessPolicies/123456789/accessLevels/atlas_ip_sync"
	g.SetLevel(gcptest.Level{"name": level, "description": "atlas-ip-sync", "basic": map[string]any{"conditions": []any{map[string]any{"ipSubnetworks": []any{"192.0.2.0/32"}}}}})
	sa := g.ServiceAccountJSON()
	var key struct {
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(sa, &key); err != nil {
		t.Fatal(err)
	}
	// Pieces of the key as they would show if printed: a line of its PEM,
	// and the same bytes JSON-escaped.
	pemLine := strings.Split(key.PrivateKey, "\n")[5]
	other, err := gcptest.New(filepath.Join(testenv.Testdata(t), "gcp", "accesscontextmanager-v1-discovery.json"))
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(other.ServiceAccountJSON()), `"token_uri":"`, `"token_uri":"`+g.URL+"/token#", 1)
	sm := secretsmanager.NewFromConfig(moto.AWSConfig(t))
	for name, v := range map[string]string{"gcp-good-" + suffix: string(sa), "gcp-wrong-" + suffix: wrong} {
		if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	sim := startSim(t)
	configFor := func(secret string) string {
		return writeConfig(t, fmt.Sprintf(`atlas: {baseURL: %s}
snapshot: {url: "file://%s"}
gcp: {endpoint: %s, credentials: {secretId: %s}}
targets:
  - {name: level, type: gcp-access-level, resource: %s, sid: atlas-ip-sync, sources: [control-plane-outbound]}
`, sim.URL(), filepath.Join(t.TempDir(), "s.json"), g.URL, secret, level))
	}
	env := map[string]string{"IPSYNC_LOG_LEVEL": "debug"}
	var seen strings.Builder
	good := configFor("gcp-good-" + suffix)
	for _, args := range [][]string{{"plan"}, {"plan", "--json"}, {"apply"}, {"doctor"}} {
		r := ipsync(t, env, append(args, "--config", good)...)
		seen.WriteString(r.stdout + r.stderr)
	}
	if l := g.Level(level); !strings.Contains(fmt.Sprint(l), "3.") {
		t.Fatalf("the apply did not reach the level: %v", l)
	}
	bad := ipsync(t, env, "plan", "--config", configFor("gcp-wrong-"+suffix))
	if bad.code != exitError || !strings.Contains(bad.stdout+bad.stderr, "Invalid JWT Signature") {
		t.Fatalf("a key Google refuses: exit %d\n%s%s", bad.code, bad.stdout, bad.stderr)
	}
	seen.WriteString(bad.stdout + bad.stderr)
	g.Inject(gcptest.Fault{Op: gcptest.OpGetLevel, Status: 401, Times: 10})
	r := ipsync(t, env, "plan", "--config", good)
	seen.WriteString(r.stdout + r.stderr)
	for _, s := range []string{pemLine, strings.ReplaceAll(pemLine, "+", `\u002b`), "PRIVATE KEY", "ya29.sim-"} {
		if i := strings.Index(seen.String(), s); i >= 0 {
			lo := max(0, i-200)
			t.Fatalf("secret %q leaked: …%s…", s, seen.String()[lo:min(len(seen.String()), i+50)])
		}
	}
	t.Logf("checked %d bytes of output and logs", seen.Len())
}
