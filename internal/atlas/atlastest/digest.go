package atlastest

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Digest authentication as Atlas does it (RFC 7616, qop=auth, MD5 or SHA-256).

const (
	digestRealm = "MMS Public API"
	nonceTTL    = 5 * time.Minute
)

type nonceState struct {
	issued time.Time
	lastNC uint64
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// challenge is the WWW-Authenticate value Atlas sends, field for field.
func challenge(nonce, algorithm string, stale bool) string {
	return fmt.Sprintf(`Digest realm="%s", domain="", nonce="%s", algorithm=%s, qop="auth", stale=%t`, digestRealm, nonce, algorithm, stale)
}

// parseAuthParams reads `Digest k=v, k="v, with comma", …` (RFC 7235 auth-params).
func parseAuthParams(h string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(h, "Digest ")
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return out, true
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return nil, false
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			var b strings.Builder
			for ; end < len(rest) && rest[end] != '"'; end++ {
				if rest[end] == '\\' && end+1 < len(rest) {
					end++
				}
				b.WriteByte(rest[end])
			}
			if end >= len(rest) {
				return nil, false
			}
			val = b.String()
			rest = rest[end+1:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val = strings.TrimSpace(rest[:end])
			rest = rest[end:]
		}
		out[key] = val
	}
}

func hashFor(algorithm string) func() hash.Hash {
	switch algorithm {
	case "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func hexHash(f func() hash.Hash, s string) string {
	h := f()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// digestOutcome says why a digest header was or was not accepted.
type digestOutcome int

const (
	digestOK digestOutcome = iota
	digestBad
	digestStale
)

// verifyDigest checks one Authorization header. passwordFor returns the
// private key of a public key, or false.
func (s *Server) verifyDigest(header, method, requestURI string, passwordFor func(string) (string, bool)) (user string, outcome digestOutcome) {
	p, ok := parseAuthParams(header)
	if !ok {
		return "", digestBad
	}
	user = p["username"]
	alg := p["algorithm"]
	if alg == "" {
		alg = "MD5"
	}
	s.mu.Lock()
	want := s.digestAlgorithm
	st, known := s.nonces[p["nonce"]]
	s.mu.Unlock()
	if alg != want || p["realm"] != digestRealm || p["qop"] != "auth" || p["uri"] != requestURI || p["cnonce"] == "" {
		return user, digestBad
	}
	if !known {
		return user, digestStale
	}
	nc, err := strconv.ParseUint(p["nc"], 16, 64)
	if err != nil || len(p["nc"]) != 8 {
		return user, digestBad
	}
	password, ok := passwordFor(user)
	if !ok {
		return user, digestBad
	}
	f := hashFor(alg)
	ha1 := hexHash(f, user+":"+digestRealm+":"+password)
	ha2 := hexHash(f, method+":"+p["uri"])
	expected := hexHash(f, strings.Join([]string{ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2}, ":"))
	if subtle.ConstantTimeCompare([]byte(expected), []byte(p["response"])) != 1 {
		return user, digestBad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(st.issued) > nonceTTL {
		delete(s.nonces, p["nonce"])
		return user, digestStale
	}
	// Nonce counting: each use must carry a higher count than the last, so a
	// captured header cannot be replayed.
	if nc <= st.lastNC {
		return user, digestBad
	}
	st.lastNC = nc
	return user, digestOK
}
