// Package atlastest is an Atlas Admin API simulator for tests and the demo.
//
// It serves the control-plane and project IP endpoints, the service-account
// token endpoint and the encryption-at-rest endpoint over real HTTP, with real
// digest (RFC 7616, MD5 or SHA-256, nonce counting) and bearer-token checks.
// IP sets are scriptable, faults can be injected per endpoint, and every
// request is counted. Its answers are validated against the official Atlas
// OpenAPI spec in this package's tests.
package atlastest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Endpoint names a simulated operation, for faults and counters.
type Endpoint string

// The simulated operations.
const (
	ControlPlane     Endpoint = "controlPlane"
	GroupIPs         Endpoint = "groupIPs"
	Token            Endpoint = "token"
	EncryptionAtRest Endpoint = "encryptionAtRest"
)

// Fault changes the next answers of one endpoint.
type Fault struct {
	Status      int           `json:"status,omitempty"`      // answer with this status and Atlas's error body
	RetryAfter  string        `json:"retryAfter,omitempty"`  // Retry-After header value
	Body        string        `json:"body,omitempty"`        // raw body instead of the default
	Delay       time.Duration `json:"-"`                     // wait before answering
	Truncate    bool          `json:"truncate,omitempty"`    // promise the whole body, send half, close
	InvalidCIDR bool          `json:"invalidCidr,omitempty"` // put a value that is no IP or CIDR in the answer
	Reset       bool          `json:"reset,omitempty"`       // close the connection without an answer, before authentication
}

// Cluster is one cluster of a project's IP answer, as Atlas sends it.
type Cluster struct {
	ClusterName    string   `json:"clusterName"`
	Inbound        []string `json:"inbound"`
	Outbound       []string `json:"outbound"`
	FutureInbound  []string `json:"futureInbound"`
	FutureOutbound []string `json:"futureOutbound"`
}

// ControlPlaneIPs is the control-plane answer: direction → provider → region → addresses.
type ControlPlaneIPs struct {
	Inbound  map[string]map[string][]string `json:"inbound"`
	Outbound map[string]map[string][]string `json:"outbound"`
	Gateways []GatewayIPs                   `json:"gateways,omitempty"`
}

// GatewayIPs is one entry of the control-plane answer's "gateways".
type GatewayIPs struct {
	Name string `json:"name"`
	IPs  struct {
		Inbound  map[string]map[string][]string `json:"inbound,omitempty"`
		Outbound map[string]map[string][]string `json:"outbound,omitempty"`
	} `json:"ips"`
}

type apiKey struct {
	private    string
	accessList []netip.Prefix // empty: any address
	projects   map[string]bool
}

type faultSlot struct {
	f    Fault
	left int
}

// Server is the simulator. Its methods are safe for concurrent use.
type Server struct {
	mu              sync.Mutex
	controlPlane    ControlPlaneIPs
	projects        map[string][]Cluster
	earValid        map[string]bool
	earLater        map[string]earChange // a change of valid after some answers
	earAzure        map[string]AzureKeyVault
	accessLists     map[string][]AccessEntry
	apiKeys         map[string]*apiKey
	serviceAccounts map[string]string
	tokens          map[string]time.Time
	tokenTTL        time.Duration
	digestAlgorithm string
	nonces          map[string]*nonceState
	faults          map[Endpoint][]*faultSlot
	requests        map[Endpoint]int
	calls           map[Endpoint]int
	inFlight        map[Endpoint]int
	listBusy        map[string]bool // project → an access-list POST is being handled
	maxInFlight     map[Endpoint]int
	tokensIssued    int
	admin           bool
	latency         time.Duration

	srv *http.Server
	ln  net.Listener
}

// New returns an empty simulator: no projects, no credentials, MD5 digest,
// one-hour tokens.
func New() *Server {
	return &Server{
		projects:        map[string][]Cluster{},
		earValid:        map[string]bool{},
		earLater:        map[string]earChange{},
		earAzure:        map[string]AzureKeyVault{},
		accessLists:     map[string][]AccessEntry{},
		apiKeys:         map[string]*apiKey{},
		serviceAccounts: map[string]string{},
		tokens:          map[string]time.Time{},
		tokenTTL:        time.Hour,
		digestAlgorithm: "MD5",
		nonces:          map[string]*nonceState{},
		faults:          map[Endpoint][]*faultSlot{},
		requests:        map[Endpoint]int{},
		calls:           map[Endpoint]int{},
		inFlight:        map[Endpoint]int{},
		listBusy:        map[string]bool{},
		maxInFlight:     map[Endpoint]int{},
	}
}

// Start listens on addr (use "127.0.0.1:0" for a free port) and serves in the
// background. It returns the base URL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s.URL(), nil
}

// URL is the base URL of a started server.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops a started server.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// EnableAdmin serves the scripting API under /_sim/ (see admin.go).
func (s *Server) EnableAdmin() { s.mu.Lock(); s.admin = true; s.mu.Unlock() }

// AddAPIKey accepts a digest key pair. Options narrow what it may do.
func (s *Server) AddAPIKey(public, private string, opts ...KeyOption) {
	k := &apiKey{private: private}
	for _, o := range opts {
		o(k)
	}
	s.mu.Lock()
	s.apiKeys[public] = k
	s.mu.Unlock()
}

// KeyOption narrows an API key.
type KeyOption func(*apiKey)

// WithAccessList refuses calls from addresses outside the prefixes with
// Atlas's 403 IP_ADDRESS_NOT_ON_ACCESS_LIST.
func WithAccessList(prefixes ...string) KeyOption {
	return func(k *apiKey) {
		for _, p := range prefixes {
			k.accessList = append(k.accessList, netip.MustParsePrefix(p))
		}
	}
}

// WithProjects limits the key to these projects (like granting Project Read
// Only on them only); other projects answer 401 NOT_IN_GROUP.
func WithProjects(groupIDs ...string) KeyOption {
	return func(k *apiKey) {
		k.projects = map[string]bool{}
		for _, id := range groupIDs {
			k.projects[id] = true
		}
	}
}

// AddServiceAccount accepts a client id and secret at the token endpoint.
func (s *Server) AddServiceAccount(clientID, secret string) {
	s.mu.Lock()
	s.serviceAccounts[clientID] = secret
	s.mu.Unlock()
}

// SetDigestAlgorithm chooses "MD5" (Atlas's default) or "SHA-256".
func (s *Server) SetDigestAlgorithm(alg string) {
	s.mu.Lock()
	s.digestAlgorithm = alg
	s.mu.Unlock()
}

// SetLatency adds d to every answered call, like a distant Atlas.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// SetTokenTTL sets the lifetime of new service-account tokens.
func (s *Server) SetTokenTTL(d time.Duration) { s.mu.Lock(); s.tokenTTL = d; s.mu.Unlock() }

// SetControlPlane replaces the control-plane answer.
func (s *Server) SetControlPlane(cp ControlPlaneIPs) {
	cp = cloneJSON(cp)
	// Atlas sends objects, never null, for both directions.
	if cp.Inbound == nil {
		cp.Inbound = map[string]map[string][]string{}
	}
	if cp.Outbound == nil {
		cp.Outbound = map[string]map[string][]string{}
	}
	s.mu.Lock()
	s.controlPlane = cp
	s.mu.Unlock()
}

// SetProject creates or replaces a project and its clusters.
func (s *Server) SetProject(groupID string, clusters ...Cluster) {
	clusters = cloneJSON(clusters)
	for i := range clusters {
		// Atlas sends arrays, never null.
		for _, l := range []*[]string{&clusters[i].Inbound, &clusters[i].Outbound, &clusters[i].FutureInbound, &clusters[i].FutureOutbound} {
			if *l == nil {
				*l = []string{}
			}
		}
	}
	s.mu.Lock()
	s.projects[groupID] = clusters
	if _, ok := s.earValid[groupID]; !ok {
		s.earValid[groupID] = true
	}
	s.mu.Unlock()
}

// RemoveProject makes a project answer 404.
func (s *Server) RemoveProject(groupID string) {
	s.mu.Lock()
	delete(s.projects, groupID)
	s.mu.Unlock()
}

// AzureKeyVault is a project's key in an Azure vault, as Atlas answers it.
type AzureKeyVault struct {
	SubscriptionID, ResourceGroupName, KeyVaultName string
	RequirePrivateNetworking                        bool
}

// SetEncryptionAtRestAzure makes a project's encryption at rest use a key
// in vault: the answer is azureKeyVault's (valid as set), awsKms disabled.
func (s *Server) SetEncryptionAtRestAzure(groupID string, vault AzureKeyVault) {
	s.mu.Lock()
	s.earAzure[groupID] = vault
	if _, ok := s.earValid[groupID]; !ok {
		s.earValid[groupID] = true
	}
	s.mu.Unlock()
}

// SetEncryptionAtRestValid sets the key's valid for a project (awsKms', or
// azureKeyVault's after SetEncryptionAtRestAzure).
func (s *Server) SetEncryptionAtRestValid(groupID string, valid bool) {
	s.mu.Lock()
	s.earValid[groupID] = valid
	delete(s.earLater, groupID)
	s.mu.Unlock()
}

type earChange struct {
	valid bool
	after int // answers still given with the current value
}

// SetEncryptionAtRestValidAfter sets awsKms.valid for a project once `after`
// more answers have been given with the current value: a key that Atlas
// loses access to right after a policy change (after 1: the check before
// the change sees it valid, the check after sees it invalid).
func (s *Server) SetEncryptionAtRestValidAfter(groupID string, valid bool, after int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if after <= 0 {
		s.earValid[groupID] = valid
		delete(s.earLater, groupID)
		return
	}
	s.earLater[groupID] = earChange{valid: valid, after: after}
}

// InjectFault makes the next `times` answers of ep carry the fault.
// Faults queue: the first one injected is used up first.
func (s *Server) InjectFault(ep Endpoint, f Fault, times int) {
	s.mu.Lock()
	s.faults[ep] = append(s.faults[ep], &faultSlot{f: f, left: times})
	s.mu.Unlock()
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = map[Endpoint][]*faultSlot{}
	s.mu.Unlock()
}

// Requests counts every HTTP request to ep, digest challenges included.
func (s *Server) Requests(ep Endpoint) int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests[ep] }

// Calls counts the requests to ep that passed authentication and were
// answered (faults included): the API calls a client really made.
func (s *Server) Calls(ep Endpoint) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[ep] }

// MaxInFlight is the most requests to ep that were being answered at once.
func (s *Server) MaxInFlight(ep Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight[ep]
}

// TokensIssued counts service-account tokens handed out.
func (s *Server) TokensIssued() int { s.mu.Lock(); defer s.mu.Unlock(); return s.tokensIssued }

// ResetCounts zeroes every counter.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.requests, s.calls, s.maxInFlight, s.tokensIssued = map[Endpoint]int{}, map[Endpoint]int{}, map[Endpoint]int{}, 0
	s.mu.Unlock()
}

// takeReset uses up the oldest queued fault of ep if it is a reset.
func (s *Server) takeReset(ep Endpoint) bool {
	_, ok := s.takeFault(ep, func(f Fault) bool { return f.Reset })
	return ok
}

// nextFault takes one use of the oldest queued fault of ep.
func (s *Server) nextFault(ep Endpoint) (Fault, bool) {
	return s.takeFault(ep, func(Fault) bool { return true })
}

// takeFault uses up one use of the oldest queued fault of ep when want accepts it.
func (s *Server) takeFault(ep Endpoint, want func(Fault) bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[ep]
	for len(q) > 0 && q[0].left <= 0 {
		q = q[1:]
	}
	s.faults[ep] = q
	if len(q) == 0 || !want(q[0].f) {
		return Fault{}, false
	}
	q[0].left--
	return q[0].f, true
}

func cloneJSON[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
