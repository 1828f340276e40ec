package atlastest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

const (
	mediaControlPlane = "application/vnd.atlas.2023-11-15+json"
	mediaV1           = "application/vnd.atlas.2023-01-01+json"
)

// Handler serves the simulated API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/atlas/v2/unauth/controlPlaneIPAddresses", s.counted(ControlPlane, s.serveControlPlane))
	mux.HandleFunc("GET /api/atlas/v2/groups/{groupId}/ipAddresses", s.counted(GroupIPs, s.authenticated(GroupIPs, s.serveGroupIPs)))
	mux.HandleFunc("GET /api/atlas/v2/groups/{groupId}/encryptionAtRest", s.counted(EncryptionAtRest, s.authenticated(EncryptionAtRest, s.serveEncryptionAtRest)))
	mux.HandleFunc("GET /api/atlas/v2/groups/{groupId}/accessList", s.counted(AccessList, s.authenticated(AccessList, s.serveAccessList)))
	mux.HandleFunc("POST /api/atlas/v2/groups/{groupId}/accessList", s.counted(AccessListAdd, s.authenticated(AccessListAdd, s.serveAccessListAdd)))
	mux.HandleFunc("DELETE /api/atlas/v2/groups/{groupId}/accessList/{entryValue}", s.counted(AccessListDelete, s.authenticated(AccessListDelete, s.serveAccessListDelete)))
	mux.HandleFunc("POST /api/oauth/token", s.counted(Token, s.serveToken))
	mux.HandleFunc("/_sim/", s.serveAdmin)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "Cannot find resource "+r.URL.Path+".")
	})
	return mux
}

func (s *Server) counted(ep Endpoint, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[ep]++
		s.inFlight[ep]++
		s.maxInFlight[ep] = max(s.maxInFlight[ep], s.inFlight[ep])
		s.mu.Unlock()
		defer func() { s.mu.Lock(); s.inFlight[ep]--; s.mu.Unlock() }()
		// A reset strikes before anything else, as a load balancer's would: after
		// authentication it would burn a digest nonce count that Go's transport
		// then replays on its automatic retry.
		if s.takeReset(ep) {
			resetConnection(w)
			return
		}
		h(w, r)
	}
}

// authenticated checks digest or bearer credentials, the key's access list
// and its project roles, in Atlas's order, before the handler runs.
func (s *Server) authenticated(ep Endpoint, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		var key *apiKey
		switch {
		case strings.HasPrefix(authz, "Digest "):
			user, outcome := s.verifyDigest(authz, r.Method, r.RequestURI, func(u string) (string, bool) {
				s.mu.Lock()
				defer s.mu.Unlock()
				k, ok := s.apiKeys[u]
				if !ok {
					return "", false
				}
				return k.private, true
			})
			if outcome != digestOK {
				s.unauthorized(w, outcome == digestStale)
				return
			}
			s.mu.Lock()
			key = s.apiKeys[user]
			s.mu.Unlock()
		case strings.HasPrefix(authz, "Bearer "):
			if !s.validToken(strings.TrimPrefix(authz, "Bearer ")) {
				s.unauthorized(w, false)
				return
			}
		default:
			s.unauthorized(w, false)
			return
		}
		if key != nil && len(key.accessList) > 0 {
			addr := remoteAddr(r)
			allowed := false
			for _, p := range key.accessList {
				allowed = allowed || p.Contains(addr)
			}
			if !allowed {
				writeError(w, http.StatusForbidden, "IP_ADDRESS_NOT_ON_ACCESS_LIST",
					fmt.Sprintf("IP address %s is not allowed to access this resource.", addr), addr.String())
				return
			}
		}
		if key != nil && key.projects != nil && !key.projects[r.PathValue("groupId")] {
			writeError(w, http.StatusUnauthorized, "NOT_IN_GROUP", "Current user is not in the group, or the group does not exist.")
			return
		}
		h(w, r)
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, stale bool) {
	nonce := newNonce()
	s.mu.Lock()
	s.nonces[nonce] = &nonceState{issued: time.Now()}
	alg := s.digestAlgorithm
	s.mu.Unlock()
	w.Header().Set("WWW-Authenticate", challenge(nonce, alg, stale))
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "You are not authorized for this resource.")
}

func (s *Server) validToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func remoteAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// answer writes a 200 JSON answer, or the endpoint's next fault instead.
// spoil, when a fault asks for an invalid CIDR, spoils the value before it is sent.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, ep Endpoint, media string, v any, spoil func()) {
	s.countCall(ep)
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	f, faulty := s.nextFault(ep)
	if faulty && applyFault(w, r, f) {
		return
	}
	if faulty && f.InvalidCIDR && spoil != nil {
		spoil()
	}
	if accept := r.Header.Get("Accept"); accept != "" && !strings.Contains(accept, media) && !strings.Contains(accept, "*/*") {
		writeError(w, http.StatusNotAcceptable, "INVALID_ACCEPT_HEADER", "Invalid accept header or version date; this resource serves "+media+".")
		return
	}
	body, _ := json.Marshal(v)
	if faulty && f.Body != "" {
		body = []byte(f.Body)
	}
	if faulty && f.Truncate {
		truncate(w, media, body)
		return
	}
	w.Header().Set("Content-Type", media)
	_, _ = w.Write(body)
}

func (s *Server) countCall(ep Endpoint) {
	s.mu.Lock()
	s.calls[ep]++
	s.mu.Unlock()
}

// applyFault plays the parts of a fault that replace the answer (delay,
// reset, an error status) and reports whether the answer was written.
func applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return true
		}
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Status == 0 || f.Status == http.StatusOK {
		return false
	}
	if f.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	writeError(w, f.Status, errorCodeFor(f.Status), http.StatusText(f.Status)+" (injected by the simulator).")
	return true
}

func errorCodeFor(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "RATE_LIMITED"
	case http.StatusNotFound:
		return "RESOURCE_NOT_FOUND"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	}
	if status >= 500 {
		return "UNEXPECTED_ERROR"
	}
	return "INVALID_REQUEST"
}

// truncate promises the whole body and sends half of it before closing.
func truncate(w http.ResponseWriter, media string, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", media, len(body))
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, not FIN
	}
	conn.Close()
}

func writeError(w http.ResponseWriter, status int, code, detail string, params ...any) {
	if params == nil {
		params = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": status, "errorCode": code, "detail": detail, "reason": http.StatusText(status), "parameters": params,
	})
}

func (s *Server) serveControlPlane(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	cp := cloneJSON(s.controlPlane)
	s.mu.Unlock()
	s.answer(w, r, ControlPlane, mediaControlPlane, &cp, func() {
		if cp.Outbound == nil {
			cp.Outbound = map[string]map[string][]string{}
		}
		if cp.Outbound["aws"] == nil {
			cp.Outbound["aws"] = map[string][]string{}
		}
		cp.Outbound["aws"]["us-east-1"] = append(cp.Outbound["aws"]["us-east-1"], "300.1.2.3/32")
	})
}

func (s *Server) serveGroupIPs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("groupId")
	s.mu.Lock()
	clusters, ok := s.projects[id]
	clusters = cloneJSON(clusters)
	s.mu.Unlock()
	if !ok {
		s.countCall(GroupIPs)
		writeError(w, http.StatusNotFound, "GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", id), id)
		return
	}
	if clusters == nil {
		clusters = []Cluster{}
	}
	doc := map[string]any{"groupId": id, "services": map[string]any{"clusters": clusters}}
	s.answer(w, r, GroupIPs, mediaV1, doc, func() {
		if len(clusters) == 0 {
			clusters = append(clusters, Cluster{ClusterName: "spoiled"})
		}
		clusters[0].Outbound = append(clusters[0].Outbound, "10.0.0.256")
		doc["services"] = map[string]any{"clusters": clusters}
	})
}

func (s *Server) serveEncryptionAtRest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("groupId")
	s.mu.Lock()
	valid, ok := s.earValid[id]
	if c, later := s.earLater[id]; ok && later {
		if c.after--; c.after <= 0 {
			s.earValid[id] = c.valid
			delete(s.earLater, id)
		} else {
			s.earLater[id] = c
		}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", id), id)
		return
	}
	s.mu.Lock()
	az, isAzure := s.earAzure[id]
	s.mu.Unlock()
	answer := map[string]any{"awsKms": map[string]any{"enabled": true, "valid": valid, "region": "US_EAST_1"}}
	if isAzure {
		answer = map[string]any{"awsKms": map[string]any{"enabled": false}, "azureKeyVault": map[string]any{
			"enabled": true, "valid": valid, "azureEnvironment": "AZURE", "subscriptionID": az.SubscriptionID, "resourceGroupName": az.ResourceGroupName,
			"keyVaultName": az.KeyVaultName, "requirePrivateNetworking": az.RequirePrivateNetworking,
			"keyIdentifier": "https://" + az.KeyVaultName + ".vault.azure.net/keys/atlas/d891821e3d364e9eb88fbd3d11807b86"}}
	}
	s.answer(w, r, EncryptionAtRest, mediaV1, answer, nil)
}

// serveToken is the OAuth2 client-credentials token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	s.mu.Lock()
	want, known := s.serviceAccounts[id]
	ttl := s.tokenTTL
	s.mu.Unlock()
	s.countCall(Token)
	if f, faulty := s.nextFault(Token); faulty && applyFault(w, r, f) {
		return
	}
	if r.PostFormValue("grant_type") != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := "mdb_at_" + hex.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(ttl)
	s.tokensIssued++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(ttl / time.Second),
	})
}

func writeOAuthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}
