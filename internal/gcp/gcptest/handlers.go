package gcptest

import (
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
	"strings"
	"time"
)

// token checks a JWT bearer assertion (RFC 7523) signed with RS256 by the
// key this simulator issued, as Google's token endpoint does, and answers
// an access token for an hour.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.count(OpToken)
	s.mu.Lock()
	f := s.fault(OpToken)
	s.mu.Unlock()
	if f != nil && f.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		fmt.Fprint(w, `{"error":"internal_failure","error_description":"injected by the simulator"}`)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported_grant_type", "want grant_type urn:ietf:params:oauth:grant-type:jwt-bearer")
		return
	}
	if refused := s.verifyAssertion(r.PostForm.Get("assertion")); refused != "" {
		oauthError(w, "invalid_grant", refused)
		return
	}
	buf := make([]byte, 16)
	_, _ = rand.Read(buf)
	tok := "ya29.sim-" + hex.EncodeToString(buf)
	s.mu.Lock()
	s.tokens[tok] = s.now().Add(time.Hour)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`, tok)
}

func oauthError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, msg)
}

// verifyAssertion says why Google would refuse the assertion (in its
// words), or "".
func (s *Server) verifyAssertion(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "Invalid JWT: not a JWT"
	}
	var head struct{ Alg, Typ, Kid string }
	var claims struct {
		Iss, Scope, Aud string
		Exp, Iat        int64
	}
	for i, dst := range []any{&head, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			return fmt.Sprintf("Invalid JWT: part %d is not base64url JSON", i)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return "Invalid JWT Signature."
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if head.Alg != "RS256" || rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return "Invalid JWT Signature."
	}
	now := s.now().Unix()
	switch {
	case claims.Iss != s.email:
		return fmt.Sprintf("Invalid JWT: iss %q is not the service account", claims.Iss)
	case claims.Aud != s.URL+"/token":
		return fmt.Sprintf("Invalid JWT: aud %q is not the token endpoint", claims.Aud)
	case claims.Exp < now || claims.Iat > now+300:
		return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
	case !strings.Contains(claims.Scope, "https://www.googleapis.com/auth/cloud-platform"):
		return fmt.Sprintf("Invalid JWT: scope %q lacks cloud-platform", claims.Scope)
	}
	return ""
}

func levelName(r *http.Request) string {
	return "accessPolicies/" + r.PathValue("policy") + "/accessLevels/" + r.PathValue("level")
}

// answer writes v after checking it against the schema.
func (s *Server) answer(w http.ResponseWriter, schema string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		googleError(w, 500, "INTERNAL", err.Error())
		return
	}
	if err := s.schemas.check(schema, b); err != nil {
		s.mu.Lock()
		s.problem("answer %s: %v", schema, err)
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Server) getLevel(w http.ResponseWriter, r *http.Request) {
	l := s.Level(levelName(r))
	if l == nil {
		googleError(w, 404, "NOT_FOUND", "Access level not found: "+levelName(r))
		return
	}
	s.answer(w, "AccessLevel", l)
}

// patchLevel checks the body and updateMask, stores the level and answers
// a long-running operation.
func (s *Server) patchLevel(w http.ResponseWriter, r *http.Request) {
	name := levelName(r)
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		googleError(w, 400, "INVALID_ARGUMENT", err.Error())
		return
	}
	if err := s.schemas.check("AccessLevel", body); err != nil {
		s.mu.Lock()
		s.problem("request accessLevels.patch: %v", err)
		s.mu.Unlock()
		googleError(w, 400, "INVALID_ARGUMENT", err.Error())
		return
	}
	mask := r.URL.Query().Get("updateMask")
	if mask == "" {
		googleError(w, 400, "INVALID_ARGUMENT", "updateMask is required")
		return
	}
	var in Level
	_ = json.Unmarshal(body, &in) // checked above
	if err := validLevel(in); err != nil {
		googleError(w, 400, "INVALID_ARGUMENT", err.Error())
		return
	}
	resp, code, msg := s.store(name, in, mask)
	if code != 0 {
		googleError(w, code, statusName(code), msg)
		return
	}
	s.answer(w, "Operation", resp)
}

// store applies a patch to the stored level and starts its operation.
func (s *Server) store(name string, in Level, mask string) (map[string]any, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.levels[name]
	if !ok {
		return nil, 404, "Access level not found: " + name
	}
	next := clone(cur)
	for _, field := range strings.Split(mask, ",") {
		switch field {
		case "basic.conditions":
			basic, _ := next["basic"].(map[string]any)
			if basic == nil {
				basic = map[string]any{}
			}
			inBasic, _ := in["basic"].(map[string]any)
			basic["conditions"] = inBasic["conditions"]
			if cf, ok := inBasic["combiningFunction"]; ok {
				basic["combiningFunction"] = cf
			}
			next["basic"] = basic
		case "description", "title":
			next[field] = in[field]
		default:
			return nil, 400, "updateMask field not supported: " + field
		}
	}
	s.levels[name] = next
	s.opN++
	op := fmt.Sprintf("operations/accessPolicies/%s/update-%d", strings.Split(name, "/")[1], s.opN)
	s.ops[op] = s.opPolls
	resp := map[string]any{"name": op, "done": s.opPolls == 0}
	if s.opPolls == 0 {
		resp["response"] = map[string]any{"@type": "type.googleapis.com/google.identity.accesscontextmanager.v1.AccessLevel"}
	}
	return resp, 0, ""
}

// validLevel applies Google's limits to a basic level.
func validLevel(l Level) error {
	basic, _ := l["basic"].(map[string]any)
	if basic == nil {
		return nil
	}
	conds, _ := basic["conditions"].([]any)
	if len(conds) == 0 || len(conds) > 40 {
		return fmt.Errorf("a basic level needs 1 to 40 conditions, got %d", len(conds))
	}
	for i, c := range conds {
		m, _ := c.(map[string]any)
		ips, _ := m["ipSubnetworks"].([]any)
		if len(ips) > 200 {
			return fmt.Errorf("condition %d: at most 200 ipSubnetworks, got %d", i, len(ips))
		}
		if len(m) == 0 {
			return fmt.Errorf("condition %d is empty", i)
		}
	}
	return nil
}

func (s *Server) operation(w http.ResponseWriter, r *http.Request) {
	name := "operations/" + r.PathValue("id")
	s.mu.Lock()
	left, ok := s.ops[name]
	if ok && left > 0 {
		s.ops[name] = left - 1
	}
	s.mu.Unlock()
	if !ok {
		googleError(w, 404, "NOT_FOUND", "Operation not found: "+name)
		return
	}
	s.answer(w, "Operation", map[string]any{"name": name, "done": left <= 1})
}

func (s *Server) listPerimeters(w http.ResponseWriter, r *http.Request) {
	prefix := "accessPolicies/" + r.PathValue("policy") + "/"
	s.mu.Lock()
	var out []any
	for name, levels := range s.perimeters {
		if strings.HasPrefix(name, prefix) {
			out = append(out, map[string]any{"name": name, "status": map[string]any{"accessLevels": levels}})
		}
	}
	s.mu.Unlock()
	resp := map[string]any{} // Google leaves an empty list out
	if len(out) > 0 {
		resp["servicePerimeters"] = out
	}
	s.answer(w, "ListServicePerimetersResponse", resp)
}
