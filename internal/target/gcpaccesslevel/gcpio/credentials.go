package gcpio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Scope is what ipsync asks Google's token endpoint for.
const Scope = "https://www.googleapis.com/auth/cloud-platform"

func oauthClient(ctx context.Context, creds *google.Credentials) *http.Client {
	return oauth2.NewClient(ctx, creds.TokenSource)
}

// FromJSON is a Client over a credentials file's content (a service
// account key, or an external_account for workload identity federation),
// which secret reads on first use.
func FromJSON(secret func(ctx context.Context) ([]byte, error)) Client {
	var once sync.Once
	var hc *http.Client
	var err error
	return func(ctx context.Context) (*http.Client, error) {
		once.Do(func() {
			var b []byte
			if b, err = secret(ctx); err != nil {
				return
			}
			var creds *google.Credentials
			// The context of the first call would end the token source's
			// refreshes with it: the token source outlives the call.
			if creds, err = parse(context.WithoutCancel(ctx), b); err != nil {
				err = fmt.Errorf("gcp.credentials: %w", err)
				return
			}
			hc = oauthClient(context.WithoutCancel(ctx), creds)
		})
		return hc, err
	}
}

// parse accepts the two credential types ipsync documents, and no other
// (a credentials file names how to reach a token endpoint: one of another
// type, an authorized user's say, is not what the config asked for).
func parse(ctx context.Context, b []byte) (*google.Credentials, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("the secret is not a credentials JSON: %w", err)
	}
	switch t := google.CredentialsType(head.Type); t {
	case google.ServiceAccount, google.ExternalAccount:
		return google.CredentialsFromJSONWithType(ctx, b, t, Scope)
	}
	return nil, fmt.Errorf("the secret's credentials are of type %q: want service_account (a key) or external_account (workload identity federation)", head.Type)
}
