package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// An Azure client secret, the web identity token federation signs in with,
// and the access tokens either buys never appear in what ipsync prints or
// logs: plans, applies, doctor, an Entra that refuses the secret, a
// Resource Manager that refuses the token.
func TestNoAzureSecretLeaks(t *testing.T) {
	moto := testenv.SharedMoto(t)
	t.Setenv("AWS_ENDPOINT_URL", moto.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	suffix := fmt.Sprint(time.Now().UnixNano())
	az, err := azuretest.New(filepath.Join(testenv.Testdata(t), "azure", "keyvault-2024-11-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer az.Close()
	const vault = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-kv"
	az.SetVault(azuretest.NewVault(vault, "203.0.113.0/24"))
	sm := secretsmanager.NewFromConfig(moto.AWSConfig(t))
	const wrongSecret = "wrong-secret-that-must-not-show"
	for name, v := range map[string]string{"az-good-" + suffix: azuretest.ClientSecret, "az-wrong-" + suffix: wrongSecret} {
		if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(`{"clientSecret":"` + v + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	sim := startSim(t)
	configFor := func(auth string) string {
		return writeConfig(t, fmt.Sprintf(`atlas: {baseURL: %s}
snapshot: {url: "file://%s"}
azure: {tenantId: %s, clientId: %s, authorityURL: %s, managementURL: %s, %s}
targets:
  - {name: vault, type: azure-key-vault, resource: %s, sid: atlas-ip-sync, sources: [control-plane-outbound]}
`, sim.URL(), filepath.Join(t.TempDir(), "s.json"), azuretest.TenantID, azuretest.ClientID, az.URL, az.URL, auth, vault))
	}
	env := map[string]string{"IPSYNC_LOG_LEVEL": "debug"}
	var seen strings.Builder
	good := configFor("credentials: {secretId: az-good-" + suffix + "}")
	for _, args := range [][]string{{"plan"}, {"plan", "--json"}, {"apply"}, {"doctor"}} {
		r := ipsync(t, env, append(args, "--config", good)...)
		seen.WriteString(r.stdout + r.stderr)
	}
	if rules := az.IPRules(vault); len(rules) < 2 {
		t.Fatalf("the apply did not reach the vault: %v", rules)
	}
	bad := ipsync(t, env, "plan", "--config", configFor("credentials: {secretId: az-wrong-"+suffix+"}"))
	if bad.code != exitError || !strings.Contains(bad.stdout+bad.stderr, "AADSTS7000215") {
		t.Fatalf("a secret Entra refuses: exit %d\n%s%s", bad.code, bad.stdout, bad.stderr)
	}
	seen.WriteString(bad.stdout + bad.stderr)
	// Federation: the web identity token comes from the simulator's STS.
	t.Setenv("AWS_ENDPOINT_URL_STS", az.STSEndpoint()) // moto has no GetWebIdentityToken
	fed := ipsync(t, env, "plan", "--config", configFor("federation: {audience: "+azuretest.Audience+"}"))
	if fed.code != exitOK && fed.code != exitChanges || az.Calls(azuretest.OpWebIdentity) == 0 {
		t.Fatalf("federation: exit %d, %d STS calls\n%s%s", fed.code, az.Calls(azuretest.OpWebIdentity), fed.stdout, fed.stderr)
	}
	seen.WriteString(fed.stdout + fed.stderr)
	az.Inject(azuretest.Fault{Op: azuretest.OpGetVault, Status: 401, Times: 10})
	r := ipsync(t, env, "plan", "--config", good)
	seen.WriteString(r.stdout + r.stderr)
	for _, s := range []string{azuretest.ClientSecret, wrongSecret, "eyJ0eXAi.sim-", "eyJhbGciOiJSUzI1NiIs"} {
		if i := strings.Index(seen.String(), s); i >= 0 {
			lo := max(0, i-200)
			t.Fatalf("secret %q leaked: …%s…", s, seen.String()[lo:min(len(seen.String()), i+50)])
		}
	}
	t.Logf("checked %d bytes of output and logs", seen.Len())
}
