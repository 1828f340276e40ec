package azkvio

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const vault = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-kv"

func sim(t *testing.T) *azuretest.Server {
	t.Helper()
	s, err := azuretest.New(filepath.Join(testenv.Testdata(t), "azure", "keyvault-2024-11-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p := s.Problems(); len(p) > 0 {
			t.Errorf("requests or answers off the spec: %v", p)
		}
		s.Close()
	})
	s.SetVault(azuretest.NewVault(vault, "203.0.113.0/24", "198.51.100.7"))
	return s
}

func app(s *azuretest.Server) App {
	return App{TenantID: azuretest.TenantID, ClientID: azuretest.ClientID, Authority: s.URL, Management: s.URL}
}

func withSecret(s *azuretest.Server, secret string) Client {
	return FromSecret(app(s), func(context.Context) ([]byte, error) { return []byte(`{"clientSecret":"` + secret + `"}`), nil })
}

func noSleep(context.Context, time.Duration) error { return nil }

var ref = target.Ref{Resource: vault, Sid: "atlas-ip-sync"}

// A first run owns nothing; its write adds ipsync's rules after everybody
// else's, tags the vault, and keeps every other part of the firewall; the
// next read, knowing what was written, owns exactly that.
func TestReadWriteAgainstTheSimulator(t *testing.T) {
	s := sim(t)
	a := New(withSecret(s, azuretest.ClientSecret), s.URL, noSleep)
	ctx := context.Background()
	f, err := a.Read(ctx, ref)
	if err != nil || !f.Owned().IsEmpty() || f.Used() != 2 || fmt.Sprint(f.HeldByOthers()) != "[198.51.100.7/32 203.0.113.0/24]" {
		t.Fatalf("%v %v", f, err)
	}
	want := ipset.MustParse("192.0.2.1", "192.0.2.2", "198.51.100.7")
	desired := want.Minus(ipset.Of(f.HeldByOthers()...))
	c, err := f.Rewrite(desired, f.Capacity())
	if err != nil {
		t.Fatal(err)
	}
	s.StaleReads(2)
	if err := a.Write(ctx, ref, c); err != nil {
		t.Fatal(err)
	}
	if got := s.IPRules(vault); !slices.Equal(got, []string{"203.0.113.0/24", "198.51.100.7/32", "192.0.2.1/32", "192.0.2.2/32"}) {
		t.Fatalf("rules %v", got)
	}
	v := s.Vault(vault)
	acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
	if acls["bypass"] != "AzureServices" || acls["defaultAction"] != "Deny" || len(acls["virtualNetworkRules"].([]any)) != 1 {
		t.Fatalf("networkAcls changed beyond ipRules: %v", acls)
	}
	if tag := v["tags"].(map[string]any)["ipsync-atlas-ip-sync"]; tag != azurekeyvault.TagValue(desired) {
		t.Fatalf("tag %v", tag)
	}
	if s.Calls(azuretest.OpPatchVault) != 1 || s.Calls(azuretest.OpGetVault) != 1+1+3 || s.Calls(azuretest.OpToken) != 1 {
		t.Fatalf("patch %d, get %d (read, re-read, 2 stale + 1), token %d", s.Calls(azuretest.OpPatchVault), s.Calls(azuretest.OpGetVault), s.Calls(azuretest.OpToken))
	}
	back, err := a.Read(ctx, target.Ref{Resource: vault, Sid: ref.Sid, Written: []ipset.Set{{}, desired}})
	if err != nil || !back.Owned().Equal(desired) || fmt.Sprint(back.HeldByOthers()) != "[198.51.100.7/32 203.0.113.0/24]" {
		t.Fatalf("read back %v %v", back, err)
	}
}

// The vault changed between the plan and the write: nothing is written.
func TestAVaultChangedSinceThePlanIsNotWritten(t *testing.T) {
	s := sim(t)
	a := New(withSecret(s, azuretest.ClientSecret), s.URL, noSleep)
	ctx := context.Background()
	f, err := a.Read(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.Rewrite(ipset.MustParse("192.0.2.1"), f.Capacity())
	v := s.Vault(vault)
	v["systemData"].(map[string]any)["lastModifiedAt"] = "2026-12-02T09:00:00Z"
	s.SetVault(v)
	err = a.Write(ctx, ref, c)
	if err == nil || !strings.Contains(err.Error(), "changed since the plan") || s.Calls(azuretest.OpPatchVault) != 0 {
		t.Fatalf("%v, %d patches", err, s.Calls(azuretest.OpPatchVault))
	}
}

// 429 with Retry-After and a Conflict are waited out; a persistent 5xx,
// a missing vault and Azure's refusal of a private range say what they are.
func TestFaults(t *testing.T) {
	s := sim(t)
	var waits []time.Duration
	a := New(withSecret(s, azuretest.ClientSecret), s.URL, func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil })
	ctx := context.Background()
	s.Inject(azuretest.Fault{Op: azuretest.OpPatchVault, Status: 429, RetryAfter: "7", Times: 1})
	s.Inject(azuretest.Fault{Op: azuretest.OpGetVault, Status: 409, Times: 1})
	if err := a.Write(ctx, ref, target.Change{Set: ipset.MustParse("192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(waits, 7*time.Second) || s.Calls(azuretest.OpPatchVault) != 2 {
		t.Fatalf("waits %v, patches %d", waits, s.Calls(azuretest.OpPatchVault))
	}
	s.Inject(azuretest.Fault{Op: azuretest.OpGetVault, Status: 503, Times: 100})
	_, err := a.Read(ctx, ref)
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "503 ServiceUnavailable") {
		t.Fatalf("a persistent 503: %v", err)
	}
	s2 := sim(t)
	b := New(withSecret(s2, azuretest.ClientSecret), s2.URL, noSleep)
	missing := strings.Replace(vault, "atlas-kv", "nothing", 1)
	if _, err := b.Read(ctx, target.Ref{Resource: missing, Sid: "x"}); !errors.As(err, &te) || !strings.Contains(te.Hint, "does not exist") {
		t.Fatalf("missing vault: %v", err)
	}
	err = b.Write(ctx, ref, target.Change{Set: ipset.MustParse("10.0.0.1")})
	if err == nil || !strings.Contains(err.Error(), "private address range") || len(s2.IPRules(vault)) != 2 {
		t.Fatalf("Azure's refusal: %v", err)
	}
}

// A wrong secret is refused as Entra refuses it, and the secret is not in
// the error.
func TestAWrongSecretIsRefused(t *testing.T) {
	s := sim(t)
	a := New(withSecret(s, "not-the-secret"), s.URL, noSleep)
	_, err := a.Read(context.Background(), ref)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") || strings.Contains(err.Error(), "not-the-secret") {
		t.Fatalf("%v", err)
	}
}

// Federation: the assertion is a JWT from STS GetWebIdentityToken (the
// simulator's stand-in, signed by the issuer the app trusts), fetched
// through the real STS client; Entra checks its signature, issuer,
// subject and audience.
func TestFederationWithAWebIdentityToken(t *testing.T) {
	s := sim(t)
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.STSEndpoint()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", "")})
	assertion := func(audience string) func(ctx context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			out, err := client.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{Audience: []string{audience}, SigningAlgorithm: aws.String("RS256")})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.WebIdentityToken), nil
		}
	}
	a := New(FromAssertion(app(s), assertion(azuretest.Audience)), s.URL, noSleep)
	if _, err := a.Read(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if s.Calls(azuretest.OpWebIdentity) != 1 || s.Calls(azuretest.OpToken) != 1 {
		t.Fatalf("sts %d, token %d", s.Calls(azuretest.OpWebIdentity), s.Calls(azuretest.OpToken))
	}
	b := New(FromAssertion(app(s), assertion("api://somewhere-else")), s.URL, noSleep)
	if _, err := b.Read(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "AADSTS700212") {
		t.Fatalf("a wrong audience: %v", err)
	}
}

// A PATCH that hangs past the call's deadline fails the write; the next
// read still finds the vault as it was (the simulator never got to it).
func TestATimeoutFailsTheWrite(t *testing.T) {
	s := sim(t)
	a := New(withSecret(s, azuretest.ClientSecret), s.URL, noSleep)
	s.Inject(azuretest.Fault{Op: azuretest.OpPatchVault, Delay: time.Minute, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := a.Write(ctx, ref, target.Change{Set: ipset.MustParse("192.0.2.1")})
	if !errors.Is(err, context.DeadlineExceeded) || len(s.IPRules(vault)) != 2 {
		t.Fatalf("%v, rules %v", err, s.IPRules(vault))
	}
}
