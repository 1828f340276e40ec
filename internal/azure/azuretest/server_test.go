package azuretest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-one"

func start(t *testing.T) *Server {
	t.Helper()
	s, err := New(filepath.Join(testenv.Testdata(t), "azure", "keyvault-2024-11-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetVault(NewVault(id, "203.0.113.0/24"))
	return s
}

func token(t *testing.T, s *Server) string {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/"+TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {ClientID},
		"client_secret": {ClientSecret}, "scope": {"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v %d", err, resp.StatusCode)
	}
	return tok.AccessToken
}

func do(t *testing.T, s *Server, tok, method, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+id+"?api-version=2024-11-01", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The spec check can fail: a request the Swagger refuses (an IP rule
// without its required value, a read-only id in a PATCH) is a problem,
// and a well-formed exchange is not.
func TestTheSpecCheckCatchesWhatTheSwaggerRefuses(t *testing.T) {
	s := start(t)
	tok := token(t, s)
	if code, body := do(t, s, tok, "GET", ""); code != 200 || len(s.Problems()) != 0 {
		t.Fatalf("get: %d %s %v", code, body, s.Problems())
	}
	if code, _ := do(t, s, tok, "PATCH", `{"properties":{"networkAcls":{"ipRules":[{"value":"198.51.100.1/32"}]}}}`); code != 200 || len(s.Problems()) != 0 {
		t.Fatalf("a good patch: %d %v", code, s.Problems())
	}
	do(t, s, tok, "PATCH", `{"properties":{"networkAcls":{"ipRules":[{"valu":"198.51.100.1/32"}]}}}`)
	if p := s.Problems(); len(p) != 1 || !strings.Contains(p[0], "value") {
		t.Fatalf("a rule without value: %v", p)
	}
	do(t, s, tok, "PATCH", `{"properties":{"networkAcls":{"defaultAction":"Maybe"}}}`)
	if p := s.Problems(); len(p) != 2 || !strings.Contains(p[1], "defaultAction") {
		t.Fatalf("a bad enum: %v", p)
	}
}

func TestAzureRefusals(t *testing.T) {
	s := start(t)
	tok := token(t, s)
	for body, want := range map[string]string{
		`{"properties":{"networkAcls":{"ipRules":[{"value":"10.1.2.3"}]}}}`:                       "private address range",
		`{"properties":{"networkAcls":{"ipRules":[{"value":"2001:db8::/64"}]}}}`:                  "IPv4 only",
		`{"properties":{"networkAcls":{"ipRules":[{"value":"1.2.3.4"},{"value":"1.2.3.4/32"}]}}}`: "Duplicate",
	} {
		if code, got := do(t, s, tok, "PATCH", body); code != 400 || !strings.Contains(got, want) {
			t.Errorf("%s: %d %s", body, code, got)
		}
	}
	if code, got := do(t, s, "nope", "GET", ""); code != 401 || !strings.Contains(got, "AuthenticationFailed") {
		t.Errorf("no token: %d %s", code, got)
	}
}
