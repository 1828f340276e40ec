// Package gcpio reads and changes a GCP access level (the gcp-access-level
// kind) over net/http: Google's client library was measured too heavy for
// the function (docs/design.md). Writes are one at a time (the API allows
// 50 a minute per organization), each a PATCH whose long-running operation
// is polled until done; 429 and 503 are retried with backoff.
package gcpio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/restcall"
)

const kind = "GCP access level"

// DefaultEndpoint is Access Context Manager's.
const DefaultEndpoint = "https://accesscontextmanager.googleapis.com"

// Client is the adapter's HTTP client: one that authenticates (an
// oauth2.Client), built on first use.
type Client func(ctx context.Context) (*http.Client, error)

// Adapter is the gcp-access-level target.
type Adapter struct {
	client   Client
	endpoint string
	sleep    func(context.Context, time.Duration) error
	writes   sync.Mutex // one write at a time
	// retries of a 429 or 503, and polls of an operation, at most.
	retries, polls int
	pollWait       time.Duration
}

// New returns an adapter talking to endpoint with the client client
// builds; it waits with sleep.
func New(client Client, endpoint string, sleep func(context.Context, time.Duration) error) *Adapter {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	return &Adapter{client: client, endpoint: strings.TrimSuffix(endpoint, "/"), sleep: sleep, retries: 4, polls: 30, pollWait: time.Second}
}

// apiError is Google's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Code, e.Status, e.Message) }

func retryable(status int) bool { return status == 429 || status == 503 || status == 500 }

func failed(a restcall.Answer) error {
	ae := &apiError{Code: a.Status}
	var doc struct{ Error *apiError }
	if json.Unmarshal(a.Body, &doc) == nil && doc.Error != nil {
		ae.Message, ae.Status = doc.Error.Message, doc.Error.Status
	}
	return ae
}

// call makes one request, retrying a 429, 500 or 503 after Retry-After
// (or a doubling wait), and decodes the answer into out.
func (a *Adapter) call(ctx context.Context, method, path string, body, out any) error {
	hc, err := a.client(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	c := restcall.Caller{Client: hc, Sleep: a.sleep, Retries: a.retries, Retryable: retryable, Failed: failed}
	return c.JSON(ctx, method, a.endpoint+path, body, out)
}

func (a *Adapter) get(ctx context.Context, name string) (gcpaccesslevel.Level, error) {
	var l gcpaccesslevel.Level
	err := a.call(ctx, http.MethodGet, "/v1/"+name, nil, &l)
	return l, err
}

// Read returns the level as a fence.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	l, err := a.get(ctx, ref.Resource)
	if err != nil {
		return nil, classify("read", ref.Resource, err)
	}
	f, err := gcpaccesslevel.Fence(l, ref.Sid)
	var no *target.NotOwnedError
	if err != nil && !errors.As(err, &no) {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	return f, err
}

// operation is a long-running operation.
type operation struct {
	Name  string    `json:"name"`
	Done  bool      `json:"done"`
	Error *apiError `json:"error"`
}

// Write makes the level's conditions hold the change's set: one PATCH of
// its conditions (and the description as read), then the operation polled
// until done.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	a.writes.Lock()
	defer a.writes.Unlock()
	cur, err := a.get(ctx, ref.Resource)
	if err != nil {
		return classify("write", ref.Resource, err)
	}
	if _, err := gcpaccesslevel.Fence(cur, ref.Sid); err != nil {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: fmt.Errorf("%w: not written", err)}
	}
	conds, err := gcpaccesslevel.Layout(c.Set)
	if err != nil {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: err}
	}
	body := gcpaccesslevel.Level{Name: cur.Name, Title: cur.Title, Description: cur.Description, Basic: &gcpaccesslevel.Basic{CombiningFunction: "OR", Conditions: conds}}
	var op operation
	if err := a.call(ctx, http.MethodPatch, "/v1/"+ref.Resource+"?updateMask=basic.conditions,description", body, &op); err != nil {
		return classify("write", ref.Resource, err)
	}
	for poll := 0; !op.Done; poll++ {
		if poll == a.polls {
			return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: fmt.Errorf("operation %s not done after %d polls", op.Name, a.polls), Hint: "the next run reads the level afresh"}
		}
		if err := a.sleep(ctx, a.pollWait); err != nil {
			return fmt.Errorf("wait for operation %s: %w", op.Name, err)
		}
		if err := a.call(ctx, http.MethodGet, "/v1/"+op.Name, nil, &op); err != nil {
			return classify("write", ref.Resource, fmt.Errorf("poll operation %s: %w", op.Name, err))
		}
	}
	if op.Error != nil {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: fmt.Errorf("operation %s failed: %s", op.Name, op.Error.Message)}
	}
	return nil
}

func classify(op, name string, err error) error {
	e := &target.Error{Op: op, Kind: kind, Resource: name, Err: err}
	var ae *apiError
	if !errors.As(err, &ae) {
		return e
	}
	switch ae.Code {
	case 404:
		e.Hint = "the access level does not exist; check the target's resource (accessPolicies/POLICY/accessLevels/NAME)"
	case 403:
		e.Hint = "the service account lacks accesscontextmanager.accessLevels.get/update on the policy (role Access Context Manager Editor)"
	case 401:
		e.Hint = "Google refused the credentials: check the service account key or the workload identity federation config in gcp.credentials"
	case 429:
		e.Hint = "Access Context Manager's quota (50 writes a minute per organization) ran out through every retry; the next run tries again"
	}
	return e
}

// Perimeters are the service perimeters of the level's policy that list
// it (for ipsync doctor: a level no perimeter lists protects nothing).
func (a *Adapter) Perimeters(ctx context.Context, ref target.Ref) ([]string, error) {
	policy := ref.Resource[:strings.Index(ref.Resource, "/accessLevels/")]
	var names []string
	token := ""
	for {
		var page struct {
			ServicePerimeters []struct {
				Name   string `json:"name"`
				Status *struct {
					AccessLevels []string `json:"accessLevels"`
				} `json:"status"`
			} `json:"servicePerimeters"`
			NextPageToken string `json:"nextPageToken"`
		}
		path := "/v1/" + policy + "/servicePerimeters"
		if token != "" {
			path += "?pageToken=" + token
		}
		if err := a.call(ctx, http.MethodGet, path, nil, &page); err != nil {
			return nil, classify("list service perimeters of", policy, err)
		}
		for _, p := range page.ServicePerimeters {
			if p.Status != nil && slices.Contains(p.Status.AccessLevels, ref.Resource) {
				names = append(names, p.Name)
			}
		}
		if token = page.NextPageToken; token == "" {
			return names, nil
		}
	}
}
