package azuretest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// token is Entra's v2.0 token endpoint for client credentials: a client
// secret, or a client assertion (RFC 7523) that the simulator's STS
// signed for the trusted subject and Entra's token-exchange audience.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.count(OpToken)
	s.mu.Lock()
	f := s.fault(OpToken)
	s.mu.Unlock()
	if !wait(r, f) {
		return
	}
	if f != nil && f.Status != 0 {
		entraError(w, f.Status, "temporarily_unavailable", "AADSTS50196: injected by the simulator")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		entraError(w, 400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type 'client_credentials' is required.")
		return
	}
	form := r.PostForm
	switch {
	case r.PathValue("tenant") != TenantID:
		entraError(w, 400, "invalid_request", fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", r.PathValue("tenant")))
		return
	case form.Get("client_id") != ClientID:
		entraError(w, 400, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", form.Get("client_id")))
		return
	case form.Get("scope") != "https://management.azure.com/.default" && form.Get("scope") != s.URL+"/.default" && (s.ManagementAlias == "" || form.Get("scope") != s.ManagementAlias+"/.default"):
		// The scope is the management endpoint's: Azure's, or this
		// simulator's (or its alias's) when a test points ipsync at it.
		entraError(w, 400, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid.")
		return
	case form.Get("client_assertion") != "":
		if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			entraError(w, 400, "invalid_request", "AADSTS50027: client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.")
			return
		}
		if why := s.verifyAssertion(form.Get("client_assertion")); why != "" {
			entraError(w, 401, "invalid_client", why)
			return
		}
	case form.Get("client_secret") != ClientSecret:
		entraError(w, 401, "invalid_client", fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", ClientID))
		return
	}
	buf := make([]byte, 16)
	_, _ = rand.Read(buf)
	tok := "eyJ0eXAi.sim-" + hex.EncodeToString(buf)
	s.mu.Lock()
	s.tokens[tok] = s.now().Add(time.Hour)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, tok)
}

func entraError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": code, "error_description": msg, "error_codes": []int{}, "timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z")})
	w.Write(b)
}

// verifyAssertion says why Entra would refuse the assertion, in its words,
// or "": a federated credential trusts one issuer, subject and audience.
func (s *Server) verifyAssertion(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "AADSTS50027: JWT token is invalid or malformed."
	}
	var head struct{ Alg string }
	var claims struct {
		Iss, Sub string
		Aud      any
		Exp      int64
	}
	for i, dst := range []any{&head, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return "AADSTS50027: JWT token is invalid or malformed."
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || head.Alg != "RS256" || rsa.VerifyPKCS1v15(&s.issuer.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "AADSTS5002738: Invalid JWT token. The token signature is invalid."
	}
	aud := fmt.Sprint(claims.Aud)
	switch {
	case claims.Iss != s.Issuer():
		return fmt.Sprintf("AADSTS700211: No matching federated identity record found for presented assertion issuer '%s'.", claims.Iss)
	case claims.Sub != Subject:
		return fmt.Sprintf("AADSTS700213: No matching federated identity record found for presented assertion subject '%s'.", claims.Sub)
	case aud != Audience && aud != "["+Audience+"]":
		return fmt.Sprintf("AADSTS700212: No matching federated identity record found for presented assertion audience '%s'.", aud)
	case time.Unix(claims.Exp, 0).Before(s.now()):
		return "AADSTS700024: Client assertion is not within its valid time range."
	}
	return ""
}

// webIdentityToken is AWS STS GetWebIdentityToken (Query protocol): a JWT
// for the trusted subject, signed by the simulator's issuer key.
func (s *Server) webIdentityToken(w http.ResponseWriter, r *http.Request) {
	s.count(OpWebIdentity)
	s.mu.Lock()
	f := s.fault(OpWebIdentity)
	s.mu.Unlock()
	if !wait(r, f) {
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "GetWebIdentityToken" {
		stsError(w, 400, "InvalidAction", "want Action=GetWebIdentityToken")
		return
	}
	if f != nil && f.Status != 0 {
		stsError(w, f.Status, "ServiceUnavailable", "injected by the simulator")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		stsError(w, 403, "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	aud := r.PostForm.Get("Audience.member.1")
	if aud == "" || r.PostForm.Get("SigningAlgorithm") != "RS256" {
		stsError(w, 400, "ValidationError", "Audience and SigningAlgorithm RS256 are required")
		return
	}
	exp := s.now().Add(5 * time.Minute)
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"sim-sts-1"}`))
	body, _ := json.Marshal(map[string]any{"iss": s.Issuer(), "sub": Subject, "aud": aud, "exp": exp.Unix(), "iat": s.now().Unix()})
	payload := base64.RawURLEncoding.EncodeToString(body)
	sum := sha256.Sum256([]byte(head + "." + payload))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.issuer, crypto.SHA256, sum[:])
	if err != nil {
		stsError(w, 500, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetWebIdentityTokenResult><WebIdentityToken>%s.%s.%s</WebIdentityToken><Expiration>%s</Expiration></GetWebIdentityTokenResult><ResponseMetadata><RequestId>sim</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>`,
		head, payload, base64.RawURLEncoding.EncodeToString(sig), exp.UTC().Format(time.RFC3339))
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>sim</RequestId></ErrorResponse>`, code, msg)
}

// recorder keeps an answer so that it can be checked against the spec
// before it is sent.
type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header         { return rec.header }
func (rec *recorder) WriteHeader(status int)      { rec.status = status }
func (rec *recorder) Write(b []byte) (int, error) { return rec.body.Write(b) }

// management counts op, applies its faults, checks the bearer token, and
// validates the request and the answer against the spec.
func (s *Server) management(op string, h func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.count(op)
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return
		}
		rec := &recorder{status: 200, header: http.Header{}}
		rec.header.Set("Content-Type", "application/json; charset=utf-8")
		s.mu.Lock()
		f := s.fault(op)
		exp, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		now := s.now()
		s.mu.Unlock()
		if !wait(r, f) {
			return
		}
		switch {
		case f != nil && f.Status != 0:
			if f.Landed && ok && !now.After(exp) && r.URL.Query().Get("api-version") == "2024-11-01" {
				h(&recorder{status: 200, header: http.Header{}}, r, body)
			}
			code := f.Code
			if code == "" {
				code = codeOf(f.Status)
			}
			if f.RetryAfter != "" {
				rec.header.Set("Retry-After", f.RetryAfter)
			}
			rec.WriteHeader(f.Status)
			rec.Write(cloudError(code, "injected by the simulator"))
		case !ok || now.After(exp):
			rec.WriteHeader(401)
			rec.Write(cloudError("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or the token is invalid."))
		case r.URL.Query().Get("api-version") != "2024-11-01":
			rec.WriteHeader(400)
			rec.Write(cloudError("InvalidApiVersionParameter", fmt.Sprintf("The api-version '%s' is invalid.", r.URL.Query().Get("api-version"))))
		default:
			h(rec, r, body)
		}
		if err := s.spec.check(r, body, rec.status, rec.header, rec.body.Bytes()); err != nil {
			s.mu.Lock()
			s.problems = append(s.problems, err.Error())
			s.mu.Unlock()
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())
	}
}

func vaultID(r *http.Request) string {
	return strings.ToLower(strings.TrimSuffix(r.URL.Path, "/"))
}

func (s *Server) getVault(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	id := vaultID(r)
	v, ok := s.vaults[id]
	if s.staleLeft[id] > 0 {
		v = s.previous[id]
		s.staleLeft[id]--
	}
	v = clone(v)
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(404)
		w.Write(cloudError("ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.KeyVault/vaults/%s' under resource group '%s' was not found.", r.PathValue("name"), r.PathValue("rg"))))
		return
	}
	b, _ := json.Marshal(v)
	w.Write(b)
}

// patchVault merges the body as Resource Manager does: tags, when given,
// replace the vault's; each property given replaces that property
// (networkAcls whole). Azure's own refusals of IP rules are Azure's.
func (s *Server) patchVault(w http.ResponseWriter, r *http.Request, body []byte) {
	var patch struct {
		Tags       map[string]any `json:"tags"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &patch); err != nil {
		w.WriteHeader(400)
		w.Write(cloudError("InvalidRequestContent", "The request content was invalid and could not be deserialized: "+err.Error()))
		return
	}
	if acls, ok := patch.Properties["networkAcls"].(map[string]any); ok {
		if why := checkRules(acls); why != "" {
			w.WriteHeader(400)
			w.Write(cloudError("BadRequest", why))
			return
		}
		// This api-version stores a single address as a /32.
		rules, _ := acls["ipRules"].([]any)
		for _, r := range rules {
			if v, _ := r.(map[string]any); !strings.Contains(v["value"].(string), "/") {
				v["value"] = v["value"].(string) + "/32"
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := vaultID(r)
	v, ok := s.vaults[id]
	if !ok {
		w.WriteHeader(404)
		w.Write(cloudError("ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.KeyVault/vaults/%s' under resource group '%s' was not found.", r.PathValue("name"), r.PathValue("rg"))))
		return
	}
	s.previous[id], s.staleLeft[id] = clone(v), s.stale
	next := clone(v)
	if patch.Tags != nil {
		next["tags"] = patch.Tags
	}
	props := next["properties"].(map[string]any)
	for k, val := range patch.Properties {
		props[k] = val
	}
	next["systemData"].(map[string]any)["lastModifiedAt"] = s.stamp()
	next["systemData"].(map[string]any)["lastModifiedBy"] = ClientID
	next["systemData"].(map[string]any)["lastModifiedByType"] = "Application"
	s.vaults[id] = next
	b, _ := json.Marshal(next)
	w.Write(b)
}

// stamp is a lastModifiedAt later than any before it, however fast the
// writes come.
func (s *Server) stamp() string {
	t := s.now().UTC().Truncate(time.Millisecond)
	if !t.After(s.modified) {
		t = s.modified.Add(time.Millisecond)
	}
	s.modified = t
	return s.modified.Format("2006-01-02T15:04:05.0000000Z")
}

// checkRules says why Azure would refuse the IP rules, or "".
func checkRules(acls map[string]any) string {
	rules, _ := acls["ipRules"].([]any)
	if len(rules) > 1000 {
		return fmt.Sprintf("The number of IP rules (%d) exceeds the maximum of 1000.", len(rules))
	}
	seen := map[string]bool{}
	for _, r := range rules {
		m, _ := r.(map[string]any)
		v, _ := m["value"].(string)
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Sprintf("Invalid IP address or CIDR '%s'.", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		switch {
		case !p.Addr().Is4():
			return fmt.Sprintf("IP rule '%s' is not an IPv4 address or range: Key Vault IP rules support IPv4 only.", v)
		case p.Addr().IsPrivate():
			return fmt.Sprintf("IP rule '%s' is a private address range, which is not allowed in a Key Vault IP rule.", v)
		case seen[p.Masked().String()]:
			return fmt.Sprintf("Duplicate IP rule '%s'.", v)
		}
		seen[p.Masked().String()] = true
	}
	return ""
}
