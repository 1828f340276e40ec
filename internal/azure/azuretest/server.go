// Package azuretest is a simulator of the part of Azure ipsync uses: the
// Microsoft Entra token endpoint (client credentials, with a client secret
// or a client assertion from a trusted issuer, checked as Entra checks
// them), AWS STS GetWebIdentityToken as that issuer (moto has no such
// call), and Key Vault's management GET and PATCH of a vault. Every
// management request and answer is validated against the official Swagger
// (keyvault-2024-11-01.json) with kin-openapi. Faults (a status for the
// next calls of an operation, 429 with Retry-After, a delay), stale reads
// after a write, and per-operation counters are scriptable. For tests and
// the demo.
package azuretest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Operations the counters and faults name.
const (
	OpToken       = "token"
	OpWebIdentity = "sts.GetWebIdentityToken"
	OpGetVault    = "vaults.get"
	OpPatchVault  = "vaults.update"
)

// Tenant, client and secret the simulator trusts unless told otherwise.
const (
	TenantID     = "00000000-0000-0000-0000-0000000000aa"
	ClientID     = "11111111-1111-1111-1111-1111111111bb"
	ClientSecret = "sim-client-secret-do-not-log"
	// Subject is the AWS identity a federated credential trusts.
	Subject = "arn:aws:iam::123456789012:role/ipsync-reconcile"
	// Audience is the one Entra wants in an assertion from AWS.
	Audience = "api://AzureADTokenExchange"
)

// Vault is a vault as the simulator keeps it (the API's JSON).
type Vault = map[string]any

// Fault answers the next Times calls of Op with Status (and Retry-After,
// when set, and Azure's error Code), or holds each for Delay first.
type Fault struct {
	Op         string
	Status     int
	Code       string
	RetryAfter string
	Delay      time.Duration
	Times      int
	// Landed carries the call out before answering Status: it takes
	// effect and the caller is told it failed (a lost response).
	Landed bool
}

// Server is the simulator.
type Server struct {
	URL string
	// OnCall, when set before Start, is told of every request by its
	// operation.
	OnCall func(op string)
	// ManagementAlias, when set before the first token request, is another URL the token's
	// scope may name: a proxy in front of this simulator that a test points
	// ipsync's managementURL at.
	ManagementAlias string

	mu        sync.Mutex
	srv       *http.Server
	spec      *spec
	issuer    *rsa.PrivateKey // signs STS's web identity tokens
	tokens    map[string]time.Time
	vaults    map[string]Vault // by lower-cased resource id
	previous  map[string]Vault // what a stale read answers
	stale     int              // GETs after a PATCH that answer the previous vault
	staleLeft map[string]int
	faults    []*Fault
	calls     map[string]int
	problems  []string
	modified  time.Time
	now       func() time.Time
}

// New is a simulator whose management requests and answers are checked
// against the Swagger at specPath (common.json beside it).
func New(specPath string) (*Server, error) {
	sp, err := loadSpec(specPath)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Server{spec: sp, issuer: key, tokens: map[string]time.Time{}, vaults: map[string]Vault{}, previous: map[string]Vault{}, staleLeft: map[string]int{},
		calls: map[string]int{}, now: time.Now}, nil
}

// Start listens on addr ("127.0.0.1:0").
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.URL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.token)
	mux.HandleFunc("POST /sts/{$}", s.webIdentityToken)
	mux.HandleFunc("GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}", s.management(OpGetVault, s.getVault))
	mux.HandleFunc("PATCH /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}", s.management(OpPatchVault, s.patchVault))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s.URL, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Issuer is the URL STS's web identity tokens name as their issuer.
func (s *Server) Issuer() string { return s.URL + "/sts" }

// STSEndpoint is where the STS stand-in answers.
func (s *Server) STSEndpoint() string { return s.URL + "/sts/" }

// SetVault stores a vault under its "id".
func (s *Server) SetVault(v Vault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vaults[strings.ToLower(v["id"].(string))] = clone(v)
}

// NewVault is a vault as Azure answers one: Deny by default, the rules
// given, and the fields the spec requires.
func NewVault(id string, rules ...string) Vault {
	var ipRules []any
	for _, r := range rules {
		ipRules = append(ipRules, map[string]any{"value": r})
	}
	return Vault{
		"id": id, "name": id[strings.LastIndex(id, "/")+1:], "type": "Microsoft.KeyVault/vaults", "location": "eastus2",
		"tags":       map[string]any{},
		"systemData": map[string]any{"lastModifiedAt": "2026-11-30T08:00:00Z", "lastModifiedBy": "terraform@example.com", "lastModifiedByType": "User"},
		"properties": map[string]any{
			"tenantId": TenantID, "sku": map[string]any{"family": "A", "name": "standard"}, "accessPolicies": []any{},
			"vaultUri": "https://" + id[strings.LastIndex(id, "/")+1:] + ".vault.azure.net/", "enableRbacAuthorization": true,
			"publicNetworkAccess": "Enabled",
			"networkAcls": map[string]any{"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": ipRules,
				"virtualNetworkRules": []any{map[string]any{"id": "/subscriptions/s/resourcegroups/net/providers/microsoft.network/virtualnetworks/vnet/subnets/app"}}},
		},
	}
}

// Vault is a vault as stored, or nil.
func (s *Server) Vault(id string) Vault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.vaults[strings.ToLower(id)]; ok {
		return clone(v)
	}
	return nil
}

// IPRules are a stored vault's rule values.
func (s *Server) IPRules(id string) []string {
	v := s.Vault(id)
	if v == nil {
		return nil
	}
	var out []string
	acls, _ := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
	rules, _ := acls["ipRules"].([]any)
	for _, r := range rules {
		out = append(out, r.(map[string]any)["value"].(string))
	}
	return out
}

// StaleReads makes the n GETs after each PATCH answer the vault as it was
// before it (Resource Manager's reads lag its writes).
func (s *Server) StaleReads(n int) { s.mu.Lock(); s.stale = n; s.mu.Unlock() }

// ClearFaults drops every fault left.
func (s *Server) ClearFaults() { s.mu.Lock(); s.faults = nil; s.mu.Unlock() }

// Inject adds a fault.
func (s *Server) Inject(f Fault) { s.mu.Lock(); s.faults = append(s.faults, &f); s.mu.Unlock() }

// Calls is how many requests op received.
func (s *Server) Calls(op string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[op] }

// ResetCounts zeroes the counters.
func (s *Server) ResetCounts() { s.mu.Lock(); s.calls = map[string]int{}; s.mu.Unlock() }

// Problems are the requests or answers that did not match the spec; a test
// fails when there are any.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *Server) count(op string) {
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	if s.OnCall != nil {
		s.OnCall(op)
	}
}

// fault returns the fault for op, if one is left; s.mu is held.
func (s *Server) fault(op string) *Fault {
	for _, f := range s.faults {
		if f.Op == op && f.Times > 0 {
			f.Times--
			return f
		}
	}
	return nil
}

// wait holds a faulted call for its delay; false: the client went away.
func wait(r *http.Request, f *Fault) bool {
	if f == nil || f.Delay <= 0 {
		return true
	}
	select {
	case <-time.After(f.Delay):
		return true
	case <-r.Context().Done():
		return false
	}
}

func clone(v Vault) Vault {
	b, _ := json.Marshal(v) // a decoded JSON value always marshals
	var out Vault
	_ = json.Unmarshal(b, &out)
	return out
}

// cloudError is Resource Manager's error body.
func cloudError(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return b
}

func codeOf(status int) string {
	switch status {
	case 429:
		return "TooManyRequests"
	case 409:
		return "Conflict"
	case 404:
		return "ResourceNotFound"
	case 403:
		return "AuthorizationFailed"
	case 503:
		return "ServiceUnavailable"
	}
	return "InternalServerError"
}
