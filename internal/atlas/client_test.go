package atlas_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const (
	projectA = "5aec7afbf7d068e35a39809b"
	projectB = "6aec7afbf7d068e35a39809c"
	pubKey   = "abcdefgh"
	privKey  = "11111111-2222-3333-4444-555555555555"
)

func startSim(t *testing.T) *atlastest.Server {
	t.Helper()
	sim := atlastest.New()
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sim.AddAPIKey(pubKey, privKey)
	sim.SetControlPlane(atlastest.ControlPlaneIPs{
		Inbound:  map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229/32"}}},
		Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.212.79.116/32", "3.92.113.229"}}},
	})
	sim.SetProject(projectA, atlastest.Cluster{ClusterName: "c0", Inbound: []string{"192.0.2.1"}, Outbound: []string{"198.51.100.1"}, FutureInbound: []string{}, FutureOutbound: []string{"198.51.100.2"}})
	sim.SetProject(projectB, atlastest.Cluster{ClusterName: "c1", Inbound: []string{"192.0.2.9"}, Outbound: []string{"198.51.100.9"}})
	return sim
}

func newClient(t *testing.T, sim *atlastest.Server, mod func(*atlas.Options)) *atlas.Client {
	t.Helper()
	o := atlas.Options{
		BaseURL:        sim.URL(),
		Credentials:    atlas.Credentials{PublicKey: pubKey, PrivateKey: privKey},
		Timeout:        time.Second, // a hang below waits this, at most a second
		MaxAttempts:    4,
		MaxElapsed:     10 * time.Second,
		InitialBackoff: 10 * time.Millisecond,
	}
	if mod != nil {
		mod(&o)
	}
	c, err := atlas.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFetchAllHappyPath(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	ans, err := c.FetchAll(context.Background(), []string{projectA, projectB})
	if err != nil {
		t.Fatal(err)
	}
	if got := ans.ControlPlane.Outbound["aws"]["us-east-1"].Strings(); strings.Join(got, ",") != "3.92.113.229/32,3.212.79.116/32" {
		t.Errorf("outbound = %v", got)
	}
	if len(ans.Projects) != 2 || ans.Projects[0].GroupID != projectA || ans.Projects[1].GroupID != projectB {
		t.Fatalf("projects = %+v", ans.Projects)
	}
	if got := ans.Projects[0].Clusters[0].FutureOutbound.Strings(); len(got) != 1 || got[0] != "198.51.100.2/32" {
		t.Errorf("futureOutbound = %v", got)
	}
	if n := sim.Calls(atlastest.GroupIPs); n != 2 {
		t.Errorf("project calls = %d, want 2", n)
	}
	if n := sim.Calls(atlastest.ControlPlane); n != 1 {
		t.Errorf("control-plane calls = %d, want 1", n)
	}
}

// The behaviour table the issue asks for: each fault, what the client does,
// how many calls it makes.
func TestFaults(t *testing.T) {
	type want struct {
		ok        bool
		calls     int
		errHas    []string
		retryable bool
		minWait   time.Duration
		// minRequests counts HTTP requests, for faults that strike before
		// authentication and so never reach the call counter.
		minRequests int
	}
	tests := []struct {
		name  string
		ep    atlastest.Endpoint
		fault atlastest.Fault
		times int
		want  want
	}{
		{"bad CIDR fails at once and names the value", atlastest.GroupIPs, atlastest.Fault{InvalidCIDR: true}, 1,
			want{calls: 1, errHas: []string{`"10.0.0.256"`, "unexpected answer", projectA}}},
		{"bad CIDR in control plane", atlastest.ControlPlane, atlastest.Fault{InvalidCIDR: true}, 1,
			want{calls: 1, errHas: []string{`"300.1.2.3/32"`, "outbound.aws.us-east-1"}}},
		{"429 with Retry-After then success", atlastest.GroupIPs, atlastest.Fault{Status: 429, RetryAfter: "1"}, 1,
			want{ok: true, calls: 2, minWait: time.Second}},
		{"429 without Retry-After then success", atlastest.GroupIPs, atlastest.Fault{Status: 429}, 1,
			want{ok: true, calls: 2}},
		{"500 then success", atlastest.GroupIPs, atlastest.Fault{Status: 500}, 1,
			want{ok: true, calls: 2}},
		{"503 until the retry budget ends", atlastest.GroupIPs, atlastest.Fault{Status: 503}, 100,
			want{calls: 4, retryable: true, errHas: []string{"503", "gave up after 4 attempts"}}},
		{"a timeout then success", atlastest.GroupIPs, atlastest.Fault{Delay: time.Minute}, 1,
			want{ok: true, calls: 2}},
		{"timeouts until the budget ends", atlastest.ControlPlane, atlastest.Fault{Delay: time.Minute}, 100,
			want{calls: 4, retryable: true, errHas: []string{"deadline exceeded", "gave up after 4 attempts"}}},
		{"a truncated body then success", atlastest.GroupIPs, atlastest.Fault{Truncate: true}, 1,
			want{ok: true, calls: 2}},
		{"truncated every time", atlastest.ControlPlane, atlastest.Fault{Truncate: true}, 100,
			want{calls: 4, retryable: true, errHas: []string{"unexpected EOF"}}},
		{"connection reset then success", atlastest.GroupIPs, atlastest.Fault{Reset: true}, 2,
			want{ok: true, calls: 1, minRequests: 3}},
		{"400 is not retried", atlastest.GroupIPs, atlastest.Fault{Status: 400}, 1,
			want{calls: 1, errHas: []string{"400"}}},
		{"non-JSON body is a schema error", atlastest.ControlPlane, atlastest.Fault{Body: "<html>maintenance</html>"}, 1,
			want{calls: 1, errHas: []string{"not a JSON object"}}},
		{"the real 429 body is decoded", atlastest.ControlPlane, atlastest.Fault{Status: 429, Body: `{"detail":"Rate limit exceeded for api/atlas/v2/orgs.","error":429,"errorCode":"RATE_LIMITED_TOKEN_BUCKET","reason":"Too Many Requests"}`}, 100,
			want{calls: 4, retryable: true, errHas: []string{"RATE_LIMITED_TOKEN_BUCKET", "Rate limit exceeded"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t)
			c := newClient(t, sim, func(o *atlas.Options) { o.Timeout = 500 * time.Millisecond })
			sim.InjectFault(tt.ep, tt.fault, tt.times)
			start := time.Now()
			_, err := c.FetchAll(context.Background(), []string{projectA})
			if tt.want.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.want.ok)
			}
			if calls := sim.Calls(tt.ep); calls != tt.want.calls {
				t.Errorf("calls to %s = %d, want %d", tt.ep, calls, tt.want.calls)
			}
			for _, s := range tt.want.errHas {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v does not contain %q", err, s)
				}
			}
			if err != nil && atlas.IsRetryable(err) != tt.want.retryable {
				t.Errorf("IsRetryable = %v, want %v", atlas.IsRetryable(err), tt.want.retryable)
			}
			if n := sim.Requests(tt.ep); n < tt.want.minRequests {
				t.Errorf("requests to %s = %d, want at least %d", tt.ep, n, tt.want.minRequests)
			}
			if el := time.Since(start); el < tt.want.minWait {
				t.Errorf("took %v, want at least %v (Retry-After)", el, tt.want.minWait)
			}
		})
	}
}

func TestRetryAfterBeyondBudgetFailsWithoutWaiting(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, func(o *atlas.Options) { o.MaxElapsed = 2 * time.Second })
	sim.InjectFault(atlastest.ControlPlane, atlastest.Fault{Status: 429, RetryAfter: "55"}, 1)
	start := time.Now()
	_, err := c.ControlPlane(context.Background())
	var api *atlas.APIError
	if !errors.As(err, &api) || api.Status != 429 || api.RetryAfter != 55*time.Second {
		t.Fatalf("err = %v, want a 429 APIError with RetryAfter 55s", err)
	}
	// Waiting would take the 55 s Retry-After asks for: half of it is a
	// bound no loaded machine reaches without waiting, and one it always
	// passes when it waits.
	if el := time.Since(start); el > 27*time.Second {
		t.Fatalf("waited %v although Retry-After exceeded the budget", el)
	}
}

func TestAuthErrors(t *testing.T) {
	t.Run("401 wrong key", func(t *testing.T) {
		sim := startSim(t)
		c := newClient(t, sim, func(o *atlas.Options) { o.Credentials.PrivateKey = "wrong" })
		_, err := c.Project(context.Background(), projectA)
		var api *atlas.APIError
		if !errors.As(err, &api) || api.Status != 401 {
			t.Fatalf("err = %v, want 401", err)
		}
		if !strings.Contains(err.Error(), "check the credentials") {
			t.Errorf("no hint in %v", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error shows the private key: %v", err)
		}
		if n := sim.Calls(atlastest.GroupIPs); n != 0 {
			t.Errorf("unauthenticated calls reached the handler: %d", n)
		}
		if n := sim.Requests(atlastest.GroupIPs); n != 2 {
			t.Errorf("requests = %d, want 2 (challenge + one try, no retry)", n)
		}
	})
	t.Run("403 not on the API access list", func(t *testing.T) {
		sim := startSim(t)
		sim.AddAPIKey(pubKey, privKey, atlastest.WithAccessList("203.0.113.0/24"))
		c := newClient(t, sim, nil)
		_, err := c.Project(context.Background(), projectA)
		var api *atlas.APIError
		if !errors.As(err, &api) || api.Status != 403 || api.ErrorCode != "IP_ADDRESS_NOT_ON_ACCESS_LIST" {
			t.Fatalf("err = %v, want 403 IP_ADDRESS_NOT_ON_ACCESS_LIST", err)
		}
		if !strings.Contains(err.Error(), "the address 127.0.0.1 is not on the API access list") {
			t.Errorf("hint does not name the address: %v", err)
		}
	})
	t.Run("401 no role on the project", func(t *testing.T) {
		sim := startSim(t)
		sim.AddAPIKey(pubKey, privKey, atlastest.WithProjects(projectB))
		c := newClient(t, sim, nil)
		_, err := c.FetchAll(context.Background(), []string{projectA})
		if err == nil || !strings.Contains(err.Error(), "NOT_IN_GROUP") || !strings.Contains(err.Error(), "Project Read Only") {
			t.Fatalf("err = %v, want NOT_IN_GROUP with a role hint", err)
		}
	})
	t.Run("project 404 fails the whole fetch", func(t *testing.T) {
		sim := startSim(t)
		c := newClient(t, sim, nil)
		_, err := c.FetchAll(context.Background(), []string{projectA, "0123456789abcdef01234567"})
		var api *atlas.APIError
		if !errors.As(err, &api) || api.Status != 404 || api.ErrorCode != "GROUP_NOT_FOUND" {
			t.Fatalf("err = %v, want 404 GROUP_NOT_FOUND", err)
		}
		if !strings.Contains(err.Error(), "0123456789abcdef01234567") || !strings.Contains(err.Error(), "check the project id") {
			t.Errorf("error does not name the project or say what to check: %v", err)
		}
	})
}

func TestEmptyControlPlaneAnswer(t *testing.T) {
	for _, body := range []string{`{}`, `{"inbound":{},"outbound":{}}`} {
		sim := startSim(t)
		c := newClient(t, sim, nil)
		sim.InjectFault(atlastest.ControlPlane, atlastest.Fault{Body: body}, 1)
		cp, err := c.ControlPlane(context.Background())
		// An empty answer is what Atlas said: the fetch reports it faithfully and
		// the plan's minAddresses guard refuses to write it (docs/design.md, guards).
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if len(cp.Inbound) != 0 || len(cp.Outbound) != 0 {
			t.Fatalf("%s: got %+v, want empty", body, cp)
		}
	}
	for _, body := range []string{` `, `null`, `[]`, `"x"`} {
		sim := startSim(t)
		c := newClient(t, sim, nil)
		sim.InjectFault(atlastest.ControlPlane, atlastest.Fault{Body: body}, 1)
		if _, err := c.ControlPlane(context.Background()); err == nil {
			t.Fatalf("body %q accepted", body)
		}
	}
}

func TestServiceAccount(t *testing.T) {
	t.Run("one token shared by concurrent callers", func(t *testing.T) {
		sim := startSim(t)
		sim.AddServiceAccount("mdb_sa_id_1", "sa-secret")
		c := newClient(t, sim, func(o *atlas.Options) {
			o.Credentials = atlas.Credentials{ClientID: "mdb_sa_id_1", ClientSecret: "sa-secret"}
		})
		ids := make([]string, 20)
		for i := range ids {
			ids[i] = projectA
		}
		if _, err := c.FetchAll(context.Background(), ids); err != nil {
			t.Fatal(err)
		}
		if n := sim.TokensIssued(); n != 1 {
			t.Errorf("tokens issued = %d, want 1", n)
		}
	})
	// The renewal margin is 60 s: a token with more left is reused, one
	// with less is renewed before the next request. Two TTLs on either side
	// of the margin show both, with no wait.
	for _, tt := range []struct {
		name   string
		ttl    time.Duration
		tokens int // issued for three requests
	}{
		{"reused while more than the margin is left", 2 * time.Minute, 1},
		{"renewed once inside the margin", 59 * time.Second, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t)
			sim.AddServiceAccount("mdb_sa_id_1", "sa-secret")
			sim.SetTokenTTL(tt.ttl)
			c := newClient(t, sim, func(o *atlas.Options) {
				o.Credentials = atlas.Credentials{ClientID: "mdb_sa_id_1", ClientSecret: "sa-secret"}
			})
			for range 3 {
				if _, err := c.Project(context.Background(), projectA); err != nil {
					t.Fatal(err)
				}
			}
			if n := sim.TokensIssued(); n != tt.tokens {
				t.Fatalf("tokens issued = %d for three requests with a %s token, want %d", n, tt.ttl, tt.tokens)
			}
		})
	}
	t.Run("wrong secret is terminal", func(t *testing.T) {
		sim := startSim(t)
		sim.AddServiceAccount("mdb_sa_id_1", "sa-secret")
		c := newClient(t, sim, func(o *atlas.Options) {
			o.Credentials = atlas.Credentials{ClientID: "mdb_sa_id_1", ClientSecret: "nope"}
		})
		_, err := c.Project(context.Background(), projectA)
		var api *atlas.APIError
		if !errors.As(err, &api) || api.Status != 401 || api.Endpoint != "POST /api/oauth/token" {
			t.Fatalf("err = %v, want 401 from the token endpoint", err)
		}
		if n := sim.Calls(atlastest.Token); n != 1 {
			t.Errorf("token calls = %d, want 1 (no retry on 401)", n)
		}
	})
	t.Run("token endpoint down then up", func(t *testing.T) {
		sim := startSim(t)
		sim.AddServiceAccount("mdb_sa_id_1", "sa-secret")
		sim.InjectFault(atlastest.Token, atlastest.Fault{Status: 503}, 2)
		c := newClient(t, sim, func(o *atlas.Options) {
			o.Credentials = atlas.Credentials{ClientID: "mdb_sa_id_1", ClientSecret: "sa-secret"}
		})
		if _, err := c.Project(context.Background(), projectA); err != nil {
			t.Fatalf("err = %v, want success after the token endpoint recovers", err)
		}
		if n := sim.Calls(atlastest.Token); n != 3 {
			t.Errorf("token calls = %d, want 3", n)
		}
	})
}

func TestDigestSHA256(t *testing.T) {
	sim := startSim(t)
	sim.SetDigestAlgorithm("SHA-256")
	c := newClient(t, sim, nil)
	if _, err := c.Project(context.Background(), projectA); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	sim := startSim(t)
	ids := make([]string, 24)
	for i := range ids {
		ids[i] = projectA
	}
	sim.InjectFault(atlastest.GroupIPs, atlastest.Fault{Delay: 50 * time.Millisecond, Status: 200}, 100)
	c := newClient(t, sim, func(o *atlas.Options) { o.Concurrency = 3 })
	if _, err := c.FetchAll(context.Background(), ids); err != nil {
		t.Fatal(err)
	}
	// The control-plane call takes one of the three places.
	if got := sim.MaxInFlight(atlastest.GroupIPs); got > 3 || got < 2 {
		t.Fatalf("max in flight = %d, want 2..3", got)
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"cloud.mongodb.com", "ftp://x", "http://"} {
		if _, err := atlas.New(atlas.Options{BaseURL: u}); err == nil {
			t.Errorf("base URL %q accepted", u)
		}
	}
}

func TestCredentials(t *testing.T) {
	tests := []struct {
		name, secret string
		wantKind     string
		wantErr      string
	}{
		{"api key", `{"publicKey":"p","privateKey":"s3cr3t"}`, "api-key", ""},
		{"service account", `{"clientId":"mdb_sa_id_1","clientSecret":"s3cr3t"}`, "service-account", ""},
		{"both", `{"publicKey":"p","privateKey":"s3cr3t","clientId":"c","clientSecret":"s3cr3t"}`, "", "both"},
		{"half a key", `{"publicKey":"p"}`, "", "needs both"},
		{"unknown field", `{"publicKey":"p","privateKey":"s3cr3t","x":1}`, "", "not a JSON object"},
		{"not JSON", `s3cr3t`, "", "not a JSON object"},
		{"empty", `{}`, "", "none found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := atlas.ParseCredentials([]byte(tt.secret))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil || c.Kind() != tt.wantKind {
				t.Fatalf("got %v %v", c.Kind(), err)
			}
			for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
				if strings.Contains(s, "s3cr3t") {
					t.Fatalf("%q shows the secret", s)
				}
			}
		})
	}
	env := map[string]string{"ATLAS_CLIENT_ID": "id", "ATLAS_CLIENT_SECRET": "sec"}
	c, err := atlas.CredentialsFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Kind() != "service-account" {
		t.Fatalf("from env: %v %v", c, err)
	}
}

func TestRealFixturesThroughClient(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	sim.InjectFault(atlastest.ControlPlane, atlastest.Fault{Body: string(testenv.ReadTestdata(t, "atlas/fixtures/control-plane-ip-addresses.real.json"))}, 1)
	cp, err := c.ControlPlane(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := cp.Outbound["aws"]["us-east-1"].Len(); n != 12 {
		t.Errorf("us-east-1 outbound = %d prefixes, want 12", n)
	}
	if n := cp.Inbound["aws"]["ap-northeast-1"].Len(); n != 2 {
		t.Errorf("ap-northeast-1 inbound = %d, want 2", n)
	}
	const fixtureGroup = "111111111111111111111111"
	sim.SetProject(fixtureGroup)
	sim.InjectFault(atlastest.GroupIPs, atlastest.Fault{Body: string(testenv.ReadTestdata(t, "atlas/fixtures/group-ip-addresses.shape.json"))}, 1)
	p, err := c.Project(context.Background(), fixtureGroup)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Clusters) != 2 || p.Clusters[0].Name != "cluster1" || strings.Join(p.Clusters[0].Inbound.Strings(), ",") != "192.168.1.1/32,192.168.1.2/32" {
		t.Fatalf("clusters = %+v", p.Clusters)
	}
	// The same fixture asked for as another project is refused: the answer names its own.
	sim.InjectFault(atlastest.GroupIPs, atlastest.Fault{Body: string(testenv.ReadTestdata(t, "atlas/fixtures/group-ip-addresses.shape.json"))}, 1)
	if _, err := c.Project(context.Background(), projectA); err == nil || !strings.Contains(err.Error(), "answer is for project") {
		t.Fatalf("mismatched groupId accepted: %v", err)
	}
}

func TestGatewaysAndUnknownFieldsAccepted(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	body := `{"inbound":{"aws":{"us-east-1":["1.1.1.1"]}},"outbound":{"gcp":{"us-central1":["2.2.2.2/32"]}},
	  "gateways":[{"name":"atlas-gateway","ips":{"inbound":{"aws":{"eu-west-1":["3.3.3.3"]}},"outbound":{}}}],
	  "somethingNew":{"x":1}}`
	sim.InjectFault(atlastest.ControlPlane, atlastest.Fault{Body: body}, 1)
	cp, err := c.ControlPlane(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Gateways) != 1 || cp.Gateways[0].Name != "atlas-gateway" || cp.Gateways[0].Inbound["aws"]["eu-west-1"].Len() != 1 {
		t.Fatalf("gateways = %+v", cp.Gateways)
	}
	if cp.Outbound["gcp"]["us-central1"].Strings()[0] != "2.2.2.2/32" {
		t.Fatalf("outbound = %+v", cp.Outbound)
	}
}

func TestCancelStopsRetries(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, func(o *atlas.Options) { o.InitialBackoff = 5 * time.Second })
	sim.InjectFault(atlastest.ControlPlane, atlastest.Fault{Status: 500}, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ControlPlane(ctx)
	// A retry would first wait the 5 s backoff: 4 s is far from the 300 ms
	// cancel and still short of that wait.
	if err == nil || time.Since(start) > 4*time.Second {
		t.Fatalf("err = %v after %v, want a prompt failure", err, time.Since(start))
	}
}
