// Package gcptest is a simulator of the part of Google Cloud ipsync uses:
// an OAuth2 token endpoint that checks a service account's signed JWT
// assertion against the key it issued, and Access Context Manager's access
// levels (get, patch), operations and service perimeters. Every request
// body and answer is checked against the API's discovery document. Faults
// (a status for the next calls of an operation, 429 with Retry-After) and
// per-operation counters are scriptable. For tests and the demo.
package gcptest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Operations the counters and faults name.
const (
	OpToken      = "token"
	OpGetLevel   = "accessLevels.get"
	OpPatchLevel = "accessLevels.patch"
	OpOperation  = "operations.get"
	OpPerimeters = "servicePerimeters.list"
)

// Level is an access level as the simulator keeps it (the API's JSON).
type Level = map[string]any

// Fault answers the next Times calls of Op with Status (and Retry-After,
// when set), or holds each for Delay first.
type Fault struct {
	Op         string
	Status     int
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
	// operation (a test counts them with its other calls).
	OnCall func(op string)

	mu         sync.Mutex
	srv        *http.Server
	schemas    schemas
	key        *rsa.PrivateKey
	email      string
	tokens     map[string]time.Time
	levels     map[string]Level // by name
	perimeters map[string][]string
	ops        map[string]int // operation name → polls before done
	opN        int
	opPolls    int
	faults     []*Fault
	calls      map[string]int
	problems   []string
	now        func() time.Time
}

// New is a simulator whose requests and answers are checked against the
// discovery document at discovery.
func New(discovery string) (*Server, error) {
	sc, err := loadSchemas(discovery)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return &Server{schemas: sc, key: key, email: "ipsync@atlas-ip-sync-test.iam.gserviceaccount.com", tokens: map[string]time.Time{},
		levels: map[string]Level{}, perimeters: map[string][]string{}, ops: map[string]int{}, calls: map[string]int{}, now: time.Now}, nil
}

// Start listens on addr ("127.0.0.1:0").
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.URL = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /v1/accessPolicies/{policy}/accessLevels/{level}", s.authed(OpGetLevel, s.getLevel))
	mux.HandleFunc("PATCH /v1/accessPolicies/{policy}/accessLevels/{level}", s.authed(OpPatchLevel, s.patchLevel))
	mux.HandleFunc("GET /v1/operations/{id...}", s.authed(OpOperation, s.operation))
	mux.HandleFunc("GET /v1/accessPolicies/{policy}/servicePerimeters", s.authed(OpPerimeters, s.listPerimeters))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s.URL, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// ServiceAccountJSON is a service-account key file for this simulator: its
// token_uri is the simulator's token endpoint.
func (s *Server) ServiceAccountJSON() []byte {
	der := x509.MarshalPKCS1PrivateKey(s.key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	b, _ := json.Marshal(map[string]string{ // a map of strings always marshals
		"type": "service_account", "project_id": "atlas-ip-sync-test", "private_key_id": "sim-key-1",
		"private_key": string(pemKey), "client_email": s.email, "client_id": "1", "token_uri": s.URL + "/token",
	})
	return b
}

// SetLevel stores a level (its "name" is accessPolicies/P/accessLevels/L).
func (s *Server) SetLevel(l Level) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.levels[l["name"].(string)] = clone(l)
}

// Level is a level as stored, or nil.
func (s *Server) Level(name string) Level {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.levels[name]; ok {
		return clone(l)
	}
	return nil
}

// SetPerimeter makes a perimeter of policy list levels.
func (s *Server) SetPerimeter(policy, name string, levels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perimeters["accessPolicies/"+policy+"/servicePerimeters/"+name] = levels
}

// OperationPolls makes each write's operation answer done only after n polls.
func (s *Server) OperationPolls(n int) { s.mu.Lock(); s.opPolls = n; s.mu.Unlock() }

// ClearFaults drops every fault left.
func (s *Server) ClearFaults() { s.mu.Lock(); s.faults = nil; s.mu.Unlock() }

// Inject adds a fault.
func (s *Server) Inject(f Fault) { s.mu.Lock(); s.faults = append(s.faults, &f); s.mu.Unlock() }

// Calls is how many requests op received.
func (s *Server) Calls(op string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[op] }

// ResetCounts zeroes the counters.
func (s *Server) ResetCounts() { s.mu.Lock(); s.calls = map[string]int{}; s.mu.Unlock() }

// Problems are the requests or answers that did not match the discovery
// document; a test fails when there are any.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *Server) problem(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

func (s *Server) count(op string) {
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	if s.OnCall != nil {
		s.OnCall(op)
	}
}

// fault returns the fault for op, if one is left.
func (s *Server) fault(op string) *Fault {
	for _, f := range s.faults {
		if f.Op == op && f.Times > 0 {
			f.Times--
			return f
		}
	}
	return nil
}

func clone(l Level) Level {
	b, _ := json.Marshal(l) // a decoded JSON value always marshals
	var out Level
	_ = json.Unmarshal(b, &out)
	return out
}

// googleError answers in Google's error shape.
func googleError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":%q}}`, code, msg, status)
}

// authed counts op, applies its faults and checks the bearer token.
func (s *Server) authed(op string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.count(op)
		s.mu.Lock()
		f := s.fault(op)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		exp, ok := s.tokens[tok]
		now := s.now()
		s.mu.Unlock()
		if f != nil {
			if f.Delay > 0 {
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
					return
				}
			}
			if f.Status != 0 {
				if f.Landed && ok && !now.After(exp) {
					h(httptest.NewRecorder(), r)
				}
				if f.RetryAfter != "" {
					w.Header().Set("Retry-After", f.RetryAfter)
				}
				googleError(w, f.Status, statusName(f.Status), "injected by the simulator")
				return
			}
		}
		if !ok || now.After(exp) {
			googleError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
			return
		}
		h(w, r)
	}
}

func statusName(code int) string {
	switch code {
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 503:
		return "UNAVAILABLE"
	}
	return "INTERNAL"
}
