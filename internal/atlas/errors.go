package atlas

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// APIError is an answer from Atlas other than 200, decoded from Atlas's error
// body ({error, errorCode, detail, reason, parameters}).
type APIError struct {
	Endpoint   string // method and path template, e.g. "GET /api/atlas/v2/groups/{groupId}/ipAddresses"
	Status     int
	ErrorCode  string
	Detail     string
	Reason     string
	RetryAfter time.Duration // from the Retry-After header, when present
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "atlas %s: %d %s", e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.ErrorCode != "" {
		fmt.Fprintf(&b, " (%s)", e.ErrorCode)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if h := e.Hint(); h != "" {
		fmt.Fprintf(&b, " — %s", h)
	}
	return b.String()
}

// Compiled on first use: only an access-list refusal needs it, and a
// package-level regexp would cost every cold start.
var addrInDetail = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("IP address `?([0-9a-fA-F:.]+)`?") })

// Hint says what a user should check for errors that have a usual cause.
func (e *APIError) Hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		if e.ErrorCode == "NOT_IN_GROUP" {
			return "these credentials have no role on this project (or it does not exist): give them the Project Read Only role on it"
		}
		return "check the credentials: the API key's public and private key, or the service account's client id and secret, and that they are not revoked"
	case http.StatusForbidden:
		if e.ErrorCode == "IP_ADDRESS_NOT_ON_ACCESS_LIST" || strings.Contains(e.Detail, "not allowed to access") {
			who := "this caller's address"
			if m := addrInDetail().FindStringSubmatch(e.Detail); m != nil {
				who = "the address " + m[1]
			}
			return who + " is not on the API access list of these credentials: add it in Atlas (Organization Access Manager → API Keys or Service Accounts → Access List)"
		}
		return "the credentials need the Project Read Only role on this project, and the caller's address must be on their API access list"
	case http.StatusNotFound:
		return "check the project id in the config (24 hex digits) and that these credentials can see that project"
	case http.StatusTooManyRequests:
		return "Atlas rate-limited the request"
	}
	return ""
}

// Retryable reports whether the same request may succeed later.
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// TransportError is a failure below HTTP (connection refused or reset, a
// timeout, a body cut short). It is always retryable.
type TransportError struct {
	Endpoint string
	Err      error
}

func (e *TransportError) Error() string { return fmt.Sprintf("atlas %s: %v", e.Endpoint, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// SchemaError is an answer that arrived whole but does not mean what the API
// promises (not JSON, a value that is not an IP or CIDR). It is terminal: the
// run must stop before any write.
type SchemaError struct {
	Endpoint string
	Err      error
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("atlas %s: unexpected answer: %v", e.Endpoint, e.Err)
}
func (e *SchemaError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth retrying: rate limits, server
// errors and transport failures are; everything else is terminal.
func IsRetryable(err error) bool {
	var api *APIError
	if errors.As(err, &api) {
		return api.Retryable()
	}
	var tr *TransportError
	return errors.As(err, &tr)
}
