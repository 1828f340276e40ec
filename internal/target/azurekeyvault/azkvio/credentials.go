package azkvio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultAuthority and DefaultManagement are Azure's public cloud.
const (
	DefaultAuthority  = "https://login.microsoftonline.com"
	DefaultManagement = "https://management.azure.com"
)

// App is the Entra application ipsync signs in as.
type App struct {
	TenantID, ClientID string
	Authority          string // "": DefaultAuthority
	Management         string // "": DefaultManagement; the token's scope is its /.default
}

func (a App) tokenURL() string {
	auth := a.Authority
	if auth == "" {
		auth = DefaultAuthority
	}
	return strings.TrimSuffix(auth, "/") + "/" + url.PathEscape(a.TenantID) + "/oauth2/v2.0/token"
}

func (a App) scope() string {
	m := a.Management
	if m == "" {
		m = DefaultManagement
	}
	return strings.TrimSuffix(m, "/") + "/.default"
}

// FromSecret is a Client that signs in with a client secret, read on first
// use from secret: a JSON {"clientSecret": "..."}.
func FromSecret(app App, secret func(ctx context.Context) ([]byte, error)) Client {
	return once(func(ctx context.Context) (oauth2.TokenSource, error) {
		b, err := secret(ctx)
		if err != nil {
			return nil, err
		}
		var s struct {
			ClientSecret string `json:"clientSecret"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, errors.New(`azure.credentials: the secret is not a JSON {"clientSecret": "..."}`)
		}
		if s.ClientSecret == "" {
			return nil, errors.New(`azure.credentials: the secret's JSON has no clientSecret`)
		}
		cc := &clientcredentials.Config{ClientID: app.ClientID, ClientSecret: s.ClientSecret, TokenURL: app.tokenURL(),
			Scopes: []string{app.scope()}, AuthStyle: oauth2.AuthStyleInParams}
		return cc.TokenSource(ctx), nil
	})
}

// FromAssertion is a Client that signs in with a client assertion, a
// fresh one from assertion for each token (federation: a JWT from AWS STS
// GetWebIdentityToken, so no secret is stored).
func FromAssertion(app App, assertion func(ctx context.Context) (string, error)) Client {
	return once(func(ctx context.Context) (oauth2.TokenSource, error) {
		return oauth2.ReuseTokenSource(nil, &assertionSource{ctx: ctx, app: app, assertion: assertion}), nil
	})
}

// assertionSource gets a token with a new assertion each time.
type assertionSource struct {
	ctx       context.Context
	app       App
	assertion func(ctx context.Context) (string, error)
}

func (s *assertionSource) Token() (*oauth2.Token, error) {
	jwt, err := s.assertion(s.ctx)
	if err != nil {
		return nil, fmt.Errorf("azure.federation: get a web identity token from AWS STS: %w", err)
	}
	cc := &clientcredentials.Config{ClientID: s.app.ClientID, TokenURL: s.app.tokenURL(), Scopes: []string{s.app.scope()}, AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {jwt}}}
	return cc.Token(s.ctx)
}

// once builds the token source on first use; the client it gives reuses
// tokens until they near expiry.
func once(build func(ctx context.Context) (oauth2.TokenSource, error)) Client {
	var mu sync.Mutex
	var hc *http.Client
	return func(ctx context.Context) (*http.Client, error) {
		mu.Lock()
		defer mu.Unlock()
		if hc != nil {
			return hc, nil
		}
		// The token source outlives the call that builds it: its context
		// must not end with that call.
		ts, err := build(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err // not kept: a later run's call may find the secret
		}
		hc = oauth2.NewClient(context.WithoutCancel(ctx), ts)
		return hc, nil
	}
}
