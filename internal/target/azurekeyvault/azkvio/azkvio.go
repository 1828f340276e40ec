// Package azkvio reads and changes an Azure Key Vault's firewall (the
// azure-key-vault kind) over net/http with Resource Manager's REST API:
// Azure's SDK was measured too heavy for the function (docs/design.md).
// A write is a PATCH of the vault's tags and whole networkAcls (only
// ipRules changed), refused when the vault changed since the plan
// (systemData.lastModifiedAt: a vault has no etag), then read back until
// Azure shows it. 429, 409 Conflict and 5xx are retried with backoff.
package azkvio

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

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/restcall"
)

const kind = "Azure Key Vault firewall"

// Client is the adapter's HTTP client: one that adds Entra's token,
// built on first use.
type Client func(ctx context.Context) (*http.Client, error)

// Adapter is the azure-key-vault target.
type Adapter struct {
	client     Client
	management string
	sleep      func(context.Context, time.Duration) error
	writes     sync.Mutex // one write at a time: each re-reads first
	// retries of a retryable answer, and reads back after a write, at most.
	retries, settles int
	settleWait       time.Duration
}

// New returns an adapter talking to Resource Manager at management (""
// for Azure's public cloud) with the client client builds; it waits with
// sleep.
func New(client Client, management string, sleep func(context.Context, time.Duration) error) *Adapter {
	if management == "" {
		management = DefaultManagement
	}
	return &Adapter{client: client, management: strings.TrimSuffix(management, "/"), sleep: sleep, retries: 4, settles: 10, settleWait: time.Second}
}

// apiError is Resource Manager's error.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func retryable(status int) bool { return status == 429 || status == 409 || status >= 500 }

func failed(a restcall.Answer) error {
	ae := &apiError{Status: a.Status}
	var doc struct {
		Error *struct{ Code, Message string }
	}
	if json.Unmarshal(a.Body, &doc) == nil && doc.Error != nil {
		ae.Code, ae.Message = doc.Error.Code, doc.Error.Message
	}
	return ae
}

// call makes one request, retrying what Azure says may pass later, and
// decodes the answer into out.
func (a *Adapter) call(ctx context.Context, method, path string, body, out any) error {
	hc, err := a.client(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	c := restcall.Caller{Client: hc, Sleep: a.sleep, Retries: a.retries, Retryable: retryable, Failed: failed}
	return c.JSON(ctx, method, a.management+path+"?api-version="+azurekeyvault.APIVersion, body, out)
}

// Get reads the vault.
func (a *Adapter) Get(ctx context.Context, resource string) (azurekeyvault.Vault, error) {
	loc, err := azurekeyvault.Locate(resource)
	if err != nil {
		return azurekeyvault.Vault{}, &target.Error{Op: "read", Kind: kind, Resource: resource, Err: err}
	}
	var v azurekeyvault.Vault
	if err := a.call(ctx, http.MethodGet, loc.Path(), nil, &v); err != nil {
		return v, classify("read", resource, err)
	}
	return v, nil
}

// Read returns the vault's firewall as a fence.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	v, err := a.Get(ctx, ref.Resource)
	if err != nil {
		return nil, err
	}
	f, err := azurekeyvault.Fence(v, ref.Sid, ref.Written)
	if err != nil {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	return f, nil
}

// patch is the body of a write: tags and the firewall only.
type patch struct {
	Tags       map[string]string `json:"tags"`
	Properties struct {
		NetworkACLs json.RawMessage `json:"networkAcls"`
	} `json:"properties"`
}

// Write makes the rules ipsync wrote hold the change's set, the others
// untouched, and waits until Azure shows the new rules.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	a.writes.Lock()
	defer a.writes.Unlock()
	cur, err := a.Get(ctx, ref.Resource)
	if err != nil {
		return relabel(err)
	}
	if c.Version != "" && cur.LastModifiedAt() != c.Version {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource,
			Err:  fmt.Errorf("the vault changed since the plan (systemData.lastModifiedAt %s, now %s): not written", c.Version, cur.LastModifiedAt()),
			Hint: "the next run plans again from the vault as it is"}
	}
	f, err := azurekeyvault.Fence(cur, ref.Sid, ref.Written)
	if err != nil {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: err}
	}
	rules := f.Rules(c.Set)
	var body patch
	body.Tags = f.Tags(ref.Sid, c.Set)
	if body.Properties.NetworkACLs, err = azurekeyvault.WithRules(cur.Properties.NetworkACLs, rules); err != nil {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: err}
	}
	loc, _ := azurekeyvault.Locate(ref.Resource) // Get checked it
	var after azurekeyvault.Vault
	if err := a.call(ctx, http.MethodPatch, loc.Path(), body, &after); err != nil {
		return classify("write", ref.Resource, err)
	}
	return a.settle(ctx, ref.Resource, rules)
}

// settle reads the vault until its rules are the ones written: Resource
// Manager's reads may lag its writes.
func (a *Adapter) settle(ctx context.Context, resource string, rules []azurekeyvault.IPRule) error {
	want := values(rules)
	var got []string
	for i := range a.settles {
		v, err := a.Get(ctx, resource)
		if err != nil {
			return relabel(err)
		}
		acls, err := v.ACLs()
		if err != nil {
			return &target.Error{Op: "write", Kind: kind, Resource: resource, Err: err}
		}
		if got = values(acls.IPRules); slices.Equal(got, want) {
			return nil
		}
		if i < a.settles-1 {
			if err := a.sleep(ctx, a.settleWait); err != nil {
				return err
			}
		}
	}
	return &target.Error{Op: "write", Kind: kind, Resource: resource, Err: fmt.Errorf("written, but %d reads did not show the rules (%d rules seen, %d written)", a.settles, len(got), len(want)),
		Hint: "the next run reads the vault afresh"}
}

// values are the rules' prefixes, normalised ("1.2.3.4" is 1.2.3.4/32)
// and sorted.
func values(rules []azurekeyvault.IPRule) []string {
	var out []string
	for _, r := range rules {
		if p, err := ipset.ParsePrefix(r.Value); err == nil {
			out = append(out, p.String())
		} else {
			out = append(out, r.Value)
		}
	}
	slices.Sort(out)
	return out
}

// relabel turns a failed read during a write into a failed write.
func relabel(err error) error {
	var te *target.Error
	if errors.As(err, &te) {
		e := *te
		e.Op = "write"
		return &e
	}
	return err
}

func classify(op, resource string, err error) error {
	e := &target.Error{Op: op, Kind: kind, Resource: resource, Err: err}
	var ae *apiError
	if !errors.As(err, &ae) {
		return e
	}
	switch ae.Status {
	case 404:
		e.Hint = "the vault does not exist; check the target's resource id"
	case 403:
		e.Hint = "the application lacks Microsoft.KeyVault/vaults/read and write on the vault (role Key Vault Contributor, scoped to it)"
	case 401:
		e.Hint = "Azure refused the token: check azure.tenantId, azure.clientId and the credentials"
	case 409:
		e.Hint = "Azure was busy with another change to the vault through every retry; the next run tries again"
	case 429:
		e.Hint = "Resource Manager's request quota ran out through every retry; the next run tries again"
	}
	return e
}
