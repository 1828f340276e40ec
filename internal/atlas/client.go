// Package atlas is a client for the two Atlas Admin API endpoints this project
// reads: the control-plane addresses (no auth) and a project's node addresses
// (digest API key or service account). Every call has a timeout and is retried
// with exponential backoff and jitter on 429, 5xx and transport failures,
// honouring Retry-After, within a bounded number of attempts and total time.
package atlas

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mongodb-forks/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultBaseURL is commercial Atlas; Atlas for Government is https://cloud.mongodbgov.com.
const DefaultBaseURL = "https://cloud.mongodb.com"

// Versioned media types from the official spec, one per operation.
const (
	mediaControlPlane = "application/vnd.atlas.2023-11-15+json"
	mediaGroupIPs     = "application/vnd.atlas.2023-01-01+json"
)

// Options configure a Client. Zero values take the defaults shown.
type Options struct {
	BaseURL     string            // DefaultBaseURL
	Credentials Credentials       // required for project calls
	Transport   http.RoundTripper // http.DefaultTransport
	Timeout     time.Duration     // per attempt: 10s
	MaxAttempts int               // per call: 5
	MaxElapsed  time.Duration     // per call, waits included: 60s
	// InitialBackoff is the first wait between attempts (500ms); each next
	// wait grows ×1.5 with ±50 % jitter, capped at 10s.
	InitialBackoff time.Duration
	Concurrency    int // projects fetched at once: 16
	Logger         *slog.Logger
	UserAgent      string
}

// Client reads Atlas. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	auth   *http.Client // digest or bearer
	unauth *http.Client
	opts   Options
	log    *slog.Logger
}

// New builds a Client. It makes no network call: a service-account token is
// fetched on first use and shared by every caller until shortly before it expires.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("atlas base URL %q: want http(s)://host", o.BaseURL)
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxElapsed <= 0 {
		o.MaxElapsed = 60 * time.Second
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 500 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.UserAgent == "" {
		o.UserAgent = "atlas-ip-sync"
	}
	c := &Client{
		base:   base,
		unauth: &http.Client{Transport: o.Transport},
		opts:   o,
		log:    o.Logger,
	}
	switch o.Credentials.Kind() {
	case "api-key":
		if err := o.Credentials.Validate(); err != nil {
			return nil, err
		}
		c.auth = &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(o.Credentials.PublicKey, o.Credentials.PrivateKey, o.Transport)}
	case "service-account":
		if err := o.Credentials.Validate(); err != nil {
			return nil, err
		}
		c.auth = &http.Client{Transport: &oauth2.Transport{Source: c.tokenSource(), Base: o.Transport}}
	}
	return c, nil
}

// tokenEarlyRenewal renews a service-account token this long before it expires,
// so that no request goes out with a token about to lapse.
const tokenEarlyRenewal = 60 * time.Second

func (c *Client) tokenSource() oauth2.TokenSource {
	cc := &clientcredentials.Config{
		ClientID:     c.opts.Credentials.ClientID,
		ClientSecret: c.opts.Credentials.ClientSecret,
		TokenURL:     c.base.String() + "/api/oauth/token",
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	// cc.TokenSource caches with a 10s margin; wrap the uncached fetch instead
	// so our own margin decides. ReuseTokenSource serialises callers, so
	// concurrent requests share one token and one renewal.
	return oauth2.ReuseTokenSourceWithExpiry(nil, freshToken{cc: cc, client: &http.Client{Transport: c.opts.Transport, Timeout: c.opts.Timeout}}, tokenEarlyRenewal)
}

type freshToken struct {
	cc     *clientcredentials.Config
	client *http.Client
}

func (f freshToken) Token() (*oauth2.Token, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.client)
	return f.cc.Token(ctx)
}
