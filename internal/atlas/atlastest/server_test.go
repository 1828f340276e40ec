package atlastest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/mongodb-forks/digest"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const group = "5aec7afbf7d068e35a39809b"

var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

// loadSpec loads the official Atlas spec once per test binary (about 0.6 s).
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	path := filepath.Join(testenv.Testdata(t), "atlas", "atlas-api-transformed.yaml")
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		spec, specErr = loader.LoadFromFile(path)
	})
	if specErr != nil {
		t.Fatalf("load spec: %v", specErr)
	}
	return spec
}

// validate checks a response against the spec's schema for that operation,
// status and media type: the simulator cannot drift from the real API.
// goRegexps lets kin-openapi check the spec's patterns with Go's regexp.
// One pattern (IP addresses in access list entries) has a Perl negative
// lookahead, "\\.(?!$)": a dot that does not end the string. It is checked
// without it, so a trailing dot would pass; nothing here sends one.
var goRegexps = openapi3.SetSchemaRegexCompiler(func(expr string) (openapi3.RegexMatcher, error) {
	return regexp.Compile(strings.ReplaceAll(expr, "(?!$)", ""))
})

func validate(t *testing.T, path string, resp *http.Response, body []byte) {
	t.Helper()
	validateOp(t, "GET", path, resp, body)
}

func validateOp(t *testing.T, method, path string, resp *http.Response, body []byte) {
	t.Helper()
	doc := loadSpec(t)
	item := doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("spec has no %s %s", method, path)
	}
	ref := item.GetOperation(method).Responses.Status(resp.StatusCode)
	if ref == nil || ref.Value == nil {
		t.Fatalf("spec has no %d answer for %s %s", resp.StatusCode, method, path)
	}
	if resp.StatusCode == http.StatusNoContent {
		if len(body) != 0 {
			t.Fatalf("%s %s 204 with a body: %s", method, path, body)
		}
		return
	}
	media := resp.Header.Get("Content-Type")
	mt := ref.Value.Content.Get(media)
	if mt == nil && resp.StatusCode != 200 {
		// Error answers are documented under the versioned media types; their
		// schema is ApiError whichever version.
		for _, m := range ref.Value.Content {
			mt = m
			break
		}
	}
	if mt == nil || mt.Schema == nil {
		t.Fatalf("spec has no %s body for %d on %s %s", media, resp.StatusCode, method, path)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	if err := mt.Schema.Value.VisitJSON(v, goRegexps); err != nil {
		t.Fatalf("%s %s %d does not match the spec: %v\n%s", method, path, resp.StatusCode, err, body)
	}
}

func start(t *testing.T) (*atlastest.Server, *http.Client) {
	t.Helper()
	sim := atlastest.New()
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sim.AddAPIKey("pub", "priv")
	sim.SetControlPlane(atlastest.ControlPlaneIPs{
		Inbound:  map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229/32"}}, "azure": {"eastus2": {"20.1.2.3/32"}}},
		Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.212.79.116/32"}}, "gcp": {"us-central1": {"34.1.2.3/32"}}},
		Gateways: []atlastest.GatewayIPs{{Name: "atlas-gateway"}},
	})
	sim.SetProject(group, atlastest.Cluster{ClusterName: "c0", Inbound: []string{"192.0.2.1"}, Outbound: []string{"198.51.100.1"}})
	return sim, &http.Client{Transport: digest.NewTransport("pub", "priv")}
}

func get(t *testing.T, c *http.Client, url, accept string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAnswersMatchTheOfficialSpec(t *testing.T) {
	sim, authed := start(t)
	unauthed := http.DefaultClient
	base := sim.URL()
	cases := []struct {
		name, specPath, url, accept string
		client                      *http.Client
		status                      int
		setup                       func()
	}{
		{"control plane", "/api/atlas/v2/unauth/controlPlaneIPAddresses", "/api/atlas/v2/unauth/controlPlaneIPAddresses", "application/vnd.atlas.2023-11-15+json", unauthed, 200, nil},
		{"project IPs", "/api/atlas/v2/groups/{groupId}/ipAddresses", "/api/atlas/v2/groups/" + group + "/ipAddresses", "application/vnd.atlas.2023-01-01+json", authed, 200, nil},
		{"encryption at rest", "/api/atlas/v2/groups/{groupId}/encryptionAtRest", "/api/atlas/v2/groups/" + group + "/encryptionAtRest", "application/vnd.atlas.2023-01-01+json", authed, 200, nil},
		{"encryption at rest, Azure", "/api/atlas/v2/groups/{groupId}/encryptionAtRest", "/api/atlas/v2/groups/" + group + "/encryptionAtRest", "application/vnd.atlas.2023-01-01+json", authed, 200,
			func() {
				sim.SetEncryptionAtRestAzure(group, atlastest.AzureKeyVault{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroupName: "rg", KeyVaultName: "atlas-kv", RequirePrivateNetworking: true})
			}},
		{"401", "/api/atlas/v2/groups/{groupId}/ipAddresses", "/api/atlas/v2/groups/" + group + "/ipAddresses", "application/vnd.atlas.2023-01-01+json", unauthed, 401, nil},
		{"404", "/api/atlas/v2/groups/{groupId}/ipAddresses", "/api/atlas/v2/groups/0123456789abcdef01234567/ipAddresses", "application/vnd.atlas.2023-01-01+json", authed, 404, nil},
		{"429", "/api/atlas/v2/groups/{groupId}/ipAddresses", "/api/atlas/v2/groups/" + group + "/ipAddresses", "application/vnd.atlas.2023-01-01+json", authed, 429,
			func() { sim.InjectFault(atlastest.GroupIPs, atlastest.Fault{Status: 429, RetryAfter: "3"}, 1) }},
		{"500", "/api/atlas/v2/groups/{groupId}/ipAddresses", "/api/atlas/v2/groups/" + group + "/ipAddresses", "application/vnd.atlas.2023-01-01+json", authed, 500,
			func() { sim.InjectFault(atlastest.GroupIPs, atlastest.Fault{Status: 500}, 1) }},
		{"403 access list", "/api/atlas/v2/groups/{groupId}/ipAddresses", "/api/atlas/v2/groups/" + group + "/ipAddresses", "application/vnd.atlas.2023-01-01+json", authed, 403,
			func() { sim.AddAPIKey("pub", "priv", atlastest.WithAccessList("10.0.0.0/8")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			resp, body := get(t, tc.client, base+tc.url, tc.accept)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			validate(t, tc.specPath, resp, body)
			if tc.status == 200 && resp.Header.Get("Content-Type") != tc.accept {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.accept)
			}
		})
	}
}

func TestWrongMediaTypeIsRefused(t *testing.T) {
	sim, _ := start(t)
	resp, body := get(t, http.DefaultClient, sim.URL()+"/api/atlas/v2/unauth/controlPlaneIPAddresses", "application/vnd.atlas.2023-01-01+json")
	if resp.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}

func TestRealFixturesMatchTheSpec(t *testing.T) {
	doc := loadSpec(t)
	for file, schema := range map[string]string{
		"atlas/fixtures/control-plane-ip-addresses.real.json": "ControlPlaneIPAddresses",
		"atlas/fixtures/group-ip-addresses.shape.json":        "GroupIPAddresses",
		"atlas/fixtures/error-429.real.json":                  "ApiError",
	} {
		var v any
		if err := json.Unmarshal(testenv.ReadTestdata(t, file), &v); err != nil {
			t.Fatal(err)
		}
		if err := doc.Components.Schemas[schema].Value.VisitJSON(v); err != nil {
			t.Errorf("%s vs %s: %v", file, schema, err)
		}
	}
}

// challengeFor fetches a fresh digest challenge and returns its nonce.
func challengeFor(t *testing.T, url string) string {
	t.Helper()
	resp, _ := get(t, http.DefaultClient, url, "")
	h := resp.Header.Get("WWW-Authenticate")
	i := strings.Index(h, `nonce="`)
	if resp.StatusCode != 401 || i < 0 {
		t.Fatalf("no challenge: %d %q", resp.StatusCode, h)
	}
	rest := h[i+7:]
	return rest[:strings.IndexByte(rest, '"')]
}

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

func digestHeader(user, pass, nonce, uri, nc string) string {
	ha1 := md5hex(user + ":MMS Public API:" + pass)
	ha2 := md5hex("GET:" + uri)
	resp := md5hex(strings.Join([]string{ha1, nonce, nc, "abc", "auth", ha2}, ":"))
	return fmt.Sprintf(`Digest username="%s", realm="MMS Public API", nonce="%s", uri="%s", response="%s", algorithm="MD5", qop=auth, nc=%s, cnonce="abc"`, user, nonce, uri, resp, nc)
}

func TestDigestVerification(t *testing.T) {
	sim, _ := start(t)
	uri := "/api/atlas/v2/groups/" + group + "/ipAddresses"
	send := func(h string) int {
		req, _ := http.NewRequest("GET", sim.URL()+uri, nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	nonce := challengeFor(t, sim.URL()+uri)
	if got := send(digestHeader("pub", "priv", nonce, uri, "00000001")); got != 200 {
		t.Fatalf("valid digest: %d", got)
	}
	if got := send(digestHeader("pub", "priv", nonce, uri, "00000001")); got != 401 {
		t.Fatalf("replayed nonce count accepted: %d", got)
	}
	if got := send(digestHeader("pub", "priv", nonce, uri, "00000002")); got != 200 {
		t.Fatalf("next nonce count refused: %d", got)
	}
	if got := send(digestHeader("pub", "wrong", nonce, uri, "00000003")); got != 401 {
		t.Fatalf("wrong password accepted: %d", got)
	}
	if got := send(digestHeader("nobody", "priv", nonce, uri, "00000004")); got != 401 {
		t.Fatalf("unknown user accepted: %d", got)
	}
	if got := send(digestHeader("pub", "priv", nonce, "/api/atlas/v2/other", "00000005")); got != 401 {
		t.Fatalf("digest for another URI accepted: %d", got)
	}
	if got := send(digestHeader("pub", "priv", "madeupnonce", uri, "00000001")); got != 401 {
		t.Fatalf("unknown nonce accepted: %d", got)
	}
	// An unknown nonce is answered as stale, so a client can retry with a fresh one.
	req, _ := http.NewRequest("GET", sim.URL()+uri, nil)
	req.Header.Set("Authorization", digestHeader("pub", "priv", "madeupnonce", uri, "00000001"))
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "stale=true") {
		t.Fatalf("unknown nonce not marked stale: %q", resp.Header.Get("WWW-Authenticate"))
	}
	if sim.Calls(atlastest.GroupIPs) != 2 {
		t.Fatalf("calls = %d, want 2 answered", sim.Calls(atlastest.GroupIPs))
	}
}

func TestDigestSHA256OnlyWhenChosen(t *testing.T) {
	sim, client := start(t)
	sim.SetDigestAlgorithm("SHA-256")
	uri := sim.URL() + "/api/atlas/v2/groups/" + group + "/ipAddresses"
	challenge, _ := get(t, http.DefaultClient, uri, "")
	if !strings.Contains(challenge.Header.Get("WWW-Authenticate"), "algorithm=SHA-256") {
		t.Fatalf("challenge %q does not ask for SHA-256", challenge.Header.Get("WWW-Authenticate"))
	}
	if resp, _ := get(t, client, uri, ""); resp.StatusCode != 200 {
		t.Fatalf("SHA-256 digest refused: %d", resp.StatusCode)
	}
	// An MD5 response to a SHA-256 challenge is refused.
	nonce := challengeFor(t, uri)
	req, _ := http.NewRequest("GET", uri, nil)
	req.Header.Set("Authorization", digestHeader("pub", "priv", nonce, "/api/atlas/v2/groups/"+group+"/ipAddresses", "00000001"))
	r3, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r3.Body.Close()
	if r3.StatusCode != 401 {
		t.Fatalf("MD5 answer to a SHA-256 challenge: %d", r3.StatusCode)
	}
}

func TestBearerTokens(t *testing.T) {
	sim, _ := start(t)
	sim.AddServiceAccount("id", "secret")
	form := strings.NewReader("grant_type=client_credentials")
	req, _ := http.NewRequest("POST", sim.URL()+"/api/oauth/token", form)
	req.SetBasicAuth("id", "secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("token: %d %+v", resp.StatusCode, tok)
	}
	uri := sim.URL() + "/api/atlas/v2/groups/" + group + "/ipAddresses"
	for token, want := range map[string]int{tok.AccessToken: 200, "forged": 401} {
		req, _ := http.NewRequest("GET", uri, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("bearer %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	bad, _ := http.NewRequest("POST", sim.URL()+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	bad.SetBasicAuth("id", "wrong")
	bad.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r2, _ := http.DefaultClient.Do(bad)
	r2.Body.Close()
	if r2.StatusCode != 401 {
		t.Fatalf("wrong secret: %d", r2.StatusCode)
	}
}

func TestAdminAPI(t *testing.T) {
	sim, authed := start(t)
	put := func(path, body string) int {
		req, _ := http.NewRequest("PUT", sim.URL()+path, bytes.NewBufferString(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := put("/_sim/groups/"+group, `[]`); got != 404 {
		t.Fatalf("admin API served while disabled: %d", got)
	}
	sim.EnableAdmin()
	if got := put("/_sim/groups/"+group, `[{"clusterName":"c9","inbound":["1.2.3.4"],"outbound":[],"futureInbound":[],"futureOutbound":[]}]`); got != 204 {
		t.Fatalf("put group: %d", got)
	}
	_, body := get(t, authed, sim.URL()+"/api/atlas/v2/groups/"+group+"/ipAddresses", "")
	if !strings.Contains(string(body), `"c9"`) {
		t.Fatalf("group not replaced: %s", body)
	}
	resp, err := http.Post(sim.URL()+"/_sim/faults", "application/json", strings.NewReader(`{"endpoint":"controlPlane","status":503,"times":1,"delay":"10ms"}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("post fault: %v %v", err, resp.StatusCode)
	}
	r, _ := get(t, http.DefaultClient, sim.URL()+"/api/atlas/v2/unauth/controlPlaneIPAddresses", "")
	if r.StatusCode != 503 {
		t.Fatalf("fault not applied: %d", r.StatusCode)
	}
	_, counts := get(t, http.DefaultClient, sim.URL()+"/_sim/counts", "")
	if !strings.Contains(string(counts), `"controlPlane":1`) {
		t.Fatalf("counts: %s", counts)
	}
	if got := put("/_sim/controlPlane", `{"bogus":1}`); got != 400 {
		t.Fatalf("unknown field accepted: %d", got)
	}
}

// The access list endpoints, as the client calls them, against the spec:
// the request body, and each answer.
func TestAccessListMatchesTheOfficialSpec(t *testing.T) {
	sim, authed := start(t)
	sim.SetAccessList(group, atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"}, atlastest.AccessEntry{AWSSecurityGroup: "sg-0123"})
	const list = "/api/atlas/v2/groups/{groupId}/accessList"
	base := sim.URL() + "/api/atlas/v2/groups/" + group + "/accessList"
	media := "application/vnd.atlas.2023-01-01+json"
	do := func(method, url string, body []byte) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Accept", media)
		if body != nil {
			req.Header.Set("Content-Type", media)
		}
		resp, err := authed.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	post := []byte(`[{"cidrBlock":"198.51.100.0/24","comment":"atlas-ip-sync"}]`)
	var reqBody any
	_ = json.Unmarshal(post, &reqBody)
	op := loadSpec(t).Paths.Find(list).Post
	if err := op.RequestBody.Value.Content.Get(media).Schema.Value.VisitJSON(reqBody, goRegexps); err != nil {
		t.Fatalf("the POST body ipsync sends does not match the spec: %v", err)
	}
	for _, tc := range []struct {
		method, specPath, url string
		body                  []byte
		status                int
	}{
		{"POST", list, base, post, 200},
		{"GET", list, base + "?itemsPerPage=2&pageNum=1", nil, 200},
		{"DELETE", list + "/{entryValue}", base + "/198.51.100.0%2F24", nil, 204},
		{"DELETE", list + "/{entryValue}", base + "/198.51.100.0%2F24", nil, 404},
		{"POST", list, base, []byte(`[{"cidrBlock":"not-a-cidr"}]`), 400},
	} {
		resp, body := do(tc.method, tc.url, tc.body)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.url, resp.StatusCode, tc.status, body)
		}
		validateOp(t, tc.method, tc.specPath, resp, body)
	}
	if got := sim.AccessListOf(group); len(got) != 2 {
		t.Fatalf("entries left %+v", got)
	}
}

// An empty list is "results": [], as Atlas answers (the spec's schema is an
// array); a simulator answering null made the client refuse every empty list.
func TestEmptyAccessListIsAnEmptyArray(t *testing.T) {
	sim, authed := start(t)
	sim.SetAccessList(group)
	req, _ := http.NewRequest("GET", sim.URL()+"/api/atlas/v2/groups/"+group+"/accessList", nil)
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	resp, err := authed.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc struct {
		Results json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || string(doc.Results) != "[]" {
		t.Fatalf("results %s (%v), want []: %s", doc.Results, err, b)
	}
	validateOp(t, "GET", "/api/atlas/v2/groups/{groupId}/accessList", resp, b)
}
