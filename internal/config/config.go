// Package config loads and validates the ipsync configuration (docs/design.md
// "Config"): JSON here, YAML through internal/configfile. Unknown keys are
// errors, defaults are filled in, and every problem is reported before any
// call is made.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// Config is the whole configuration.
type Config struct {
	Atlas    Atlas    `json:"atlas"`
	Snapshot Snapshot `json:"snapshot"`
	Notify   Notify   `json:"notify"`
	Trigger  Trigger  `json:"trigger"`
	Webhook  Webhook  `json:"webhook"`
	Guards   Guards   `json:"guards"`
	Verify   Verify   `json:"verify"`
	// GCP is how ipsync reaches Google Cloud: needed only by
	// gcp-access-level targets.
	GCP GCP `json:"gcp,omitzero"`
	// Azure is how ipsync reaches Azure Resource Manager: needed only by
	// azure-key-vault targets.
	Azure Azure `json:"azure,omitzero"`
	// TargetDefaults gives, per target type, the sid and sources of targets
	// that leave them out (many keys with one statement layout, or the SAM
	// template, which can only list resource ids).
	TargetDefaults map[TargetType]TargetDefault `json:"targetDefaults,omitempty"`
	Targets        []Target                     `json:"targets"`

	// kinds are the target kinds this config was checked against; nil:
	// every registered kind (a Config built in code).
	kinds target.Registry
}

// Kinds is the registry of target kinds the config knows.
func (c *Config) Kinds() target.Registry {
	if c == nil || c.kinds == nil {
		return kinds.All()
	}
	return c.kinds
}

// KindOf is a target's kind; a Config from Parse has one for every target.
func (c *Config) KindOf(t Target) (target.Kind, error) {
	k, ok := c.Kinds().Lookup(t.Type)
	if !ok {
		return nil, fmt.Errorf("target %q: no kind %q", t.Name, t.Type)
	}
	return k, nil
}

// TargetDefault is what a target of one type inherits when it sets none:
// sid, sources, encryption-at-rest projects, role (with its external id),
// a security group's rule options (all of them, when the target sets none).
type TargetDefault struct {
	Sid                      string   `json:"sid,omitempty"`
	Sources                  []Source `json:"sources,omitempty"`
	EncryptionAtRestProjects []string `json:"encryptionAtRestProjects,omitempty"`
	RoleArn                  string   `json:"roleArn,omitempty"`
	ExternalID               string   `json:"externalId,omitempty"`
	// Direction, Protocol, Ports and MaxRules: as a security-group target's.
	Direction string `json:"direction,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	Ports     string `json:"ports,omitempty"`
	MaxRules  int    `json:"maxRules,omitempty"`
}

// Atlas says where Atlas is, how to authenticate and which projects to read.
type Atlas struct {
	BaseURL     string      `json:"baseURL"`
	Credentials Credentials `json:"credentials"`
	Projects    []string    `json:"projects,omitempty"`
	// Concurrency is how many projects are fetched at once (default 16,
	// chosen by BenchmarkScale: see BENCHMARKS.md). Atlas rate-limits each
	// endpoint set per scope (a project's endpoints per project), and a 429
	// waits out its Retry-After.
	Concurrency int `json:"concurrency"`
}

// Credentials points at a Secrets Manager secret; without one, the
// credentials come from the environment (see atlas.CredentialsFromEnv).
type Credentials struct {
	SecretID string `json:"secretId,omitempty"`
}

// GCP says how to reach Google Cloud's Access Context Manager.
type GCP struct {
	// Credentials point at a secret holding a service-account key JSON, or
	// an external_account JSON (workload identity federation from AWS).
	Credentials Credentials `json:"credentials"`
	// Endpoint is Access Context Manager's (tests point it at the
	// simulator); the token endpoint comes from the credentials.
	Endpoint string `json:"endpoint,omitempty"`
}

// Azure says which Entra application ipsync signs in as, and how.
type Azure struct {
	TenantID string `json:"tenantId,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	// Credentials point at a secret holding {"clientSecret": "..."}; or,
	// with no stored secret, Federation signs in with a client assertion:
	// a JWT from AWS STS GetWebIdentityToken for Audience.
	Credentials Credentials `json:"credentials,omitzero"`
	Federation  *Federation `json:"federation,omitempty"`
	// AuthorityURL is Entra's (sovereign clouds and tests override it);
	// ManagementURL is Resource Manager's, and the token's scope.
	AuthorityURL  string `json:"authorityURL,omitempty"`
	ManagementURL string `json:"managementURL,omitempty"`
}

// Federation is sign-in without a stored secret.
type Federation struct {
	Audience string `json:"audience"`
}

// Azure's defaults: the public cloud, and Entra's audience for tokens
// exchanged from another identity provider.
const (
	DefaultAzureAuthority  = "https://login.microsoftonline.com"
	DefaultAzureManagement = "https://management.azure.com"
	DefaultAzureAudience   = "api://AzureADTokenExchange"
)

// DefaultGCPEndpoint is Access Context Manager's.
const DefaultGCPEndpoint = "https://accesscontextmanager.googleapis.com"

// Snapshot says where the snapshot is kept.
type Snapshot struct {
	URL string `json:"url"`
}

// Notify says where alerts go.
type Notify struct {
	TopicArn string `json:"topicArn,omitempty"`
}

// Trigger is the queue webhooks enqueue runs on.
type Trigger struct {
	QueueURL string `json:"queueUrl,omitempty"`
}

// Webhook configures the webhook function.
type Webhook struct {
	SecretID string `json:"secretId,omitempty"` // the Atlas webhook secret
	// EventTypes, when set, lists the alert types that trigger a run; other
	// signed alerts are acknowledged and dropped. Default: every alert.
	EventTypes []string `json:"eventTypes,omitempty"`
	// CheckSource refuses (403) requests whose source address is not among
	// Atlas's control-plane outbound addresses in the latest snapshot, before
	// the signature is computed. With no snapshot yet, every request is refused.
	CheckSource bool `json:"checkSource,omitempty"`
}

// Guards are the safety limits (docs/design.md "Safety guards").
type Guards struct {
	MinAddresses     int      `json:"minAddresses"`
	MaxRemovePercent float64  `json:"maxRemovePercent"`
	RemovalGrace     Duration `json:"removalGrace"`
	// WidestPrefix is the broadest prefix a source may give (admission).
	WidestPrefix admission.Widest `json:"widestPrefix"`
}

// Target is one policy document the tool owns a statement of.
type Target struct {
	Name     string     `json:"name"` // default: the key id or endpoint id
	Type     TargetType `json:"type"`
	Resource string     `json:"resource"`
	Sid      string     `json:"sid,omitempty"`
	Sources  []Source   `json:"sources,omitempty"`
	Static   []string   `json:"static,omitempty"`
	// EncryptionAtRestProjects are the Atlas projects whose encryption at
	// rest uses this KMS key. After ipsync changes the key policy it asks
	// Atlas whether each can still use the key, and rolls the change back
	// if one cannot (see Verify).
	EncryptionAtRestProjects []string `json:"encryptionAtRestProjects,omitempty"`
	// RoleArn, when set, is assumed (STS) to read and write this target,
	// which lives in another account; ExternalID goes with it when that
	// role's trust policy asks for one.
	RoleArn    string `json:"roleArn,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	// Direction, Protocol, Ports and MaxRules say which of a security
	// group's rules the target owns (target.Options); other kinds take none.
	Direction string `json:"direction,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	Ports     string `json:"ports,omitempty"`
	MaxRules  int    `json:"maxRules,omitempty"`
}

// Options are the target's kind-specific settings.
func (t Target) Options() target.Options {
	return target.Options{Direction: t.Direction, Protocol: t.Protocol, Ports: t.Ports, MaxRules: t.MaxRules}
}

// Verify says how long, after a change to a key that guards encryption at
// rest, ipsync watches Atlas's awsKms.valid before it trusts the change.
type Verify struct {
	Window   Duration `json:"window"`   // 0: ask once, right after the change
	Interval Duration `json:"interval"` // between two questions
}

// Defaults for values the config leaves out.
const (
	DefaultBaseURL          = "https://cloud.mongodb.com"
	DefaultAtlasConcurrency = 16
	DefaultSnapshotURL      = "file://.ipsync/snapshot.json"
	DefaultMinAddresses     = 1
	DefaultMaxRemovePercent = 30
	DefaultRemovalGrace     = 24 * time.Hour
	DefaultVerifyWindow     = 2 * time.Minute
	DefaultVerifyInterval   = 10 * time.Second
	// MaxVerifyWindow keeps a run with a change inside the reconcile
	// function's 5-minute timeout (template.yaml), with room to roll back.
	MaxVerifyWindow = 4 * time.Minute
)

// Duration is a time.Duration written as "24h", "90m".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Parse reads a JSON config (internal/configfile also reads YAML), fills
// defaults and validates it. Validation problems are reported together.
//
// The functions read IPSYNC_CONFIG with Parse, so this package links no YAML
// parser (yaml.v3's package init runs on every cold start) and reads JSON
// without reflection (see decode.go).
func Parse(data []byte) (*Config, error) { return ParseWith(data, kinds.All()) }

// ParseWith is Parse against the given kinds (a test's own kind, say).
func ParseWith(data []byte, reg target.Registry) (*Config, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("config: empty document")
	}
	if data[0] != '{' {
		return nil, errors.New("config: want a JSON object ({...})")
	}
	// Guards left out take the safe defaults: set them first, and the
	// decoder overwrites only the keys the document has.
	c := Config{Guards: Guards{
		MinAddresses:     DefaultMinAddresses,
		MaxRemovePercent: DefaultMaxRemovePercent,
		RemovalGrace:     Duration(DefaultRemovalGrace),
		WidestPrefix:     admission.DefaultWidest,
	}, Verify: Verify{Window: Duration(DefaultVerifyWindow), Interval: Duration(DefaultVerifyInterval)}, kinds: reg}
	if err := decode(data, &c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.fillDefaults(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) fillDefaults() error {
	if c.Atlas.Concurrency == 0 {
		c.Atlas.Concurrency = DefaultAtlasConcurrency
	}
	if c.Atlas.BaseURL == "" {
		c.Atlas.BaseURL = DefaultBaseURL
	}
	if c.Snapshot.URL == "" {
		c.Snapshot.URL = DefaultSnapshotURL
	}
	if c.GCP.Credentials.SecretID != "" && c.GCP.Endpoint == "" {
		c.GCP.Endpoint = DefaultGCPEndpoint
	}
	if c.Azure.TenantID != "" {
		if c.Azure.AuthorityURL == "" {
			c.Azure.AuthorityURL = DefaultAzureAuthority
		}
		if c.Azure.ManagementURL == "" {
			c.Azure.ManagementURL = DefaultAzureManagement
		}
	}
	if f := c.Azure.Federation; f != nil && f.Audience == "" {
		f.Audience = DefaultAzureAudience
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		if d, ok := c.TargetDefaults[t.Type]; ok {
			if t.Sid == "" {
				t.Sid = d.Sid
			}
			if len(t.Sources) == 0 && len(t.Static) == 0 {
				t.Sources = d.Sources
			}
			if len(t.EncryptionAtRestProjects) == 0 {
				t.EncryptionAtRestProjects = d.EncryptionAtRestProjects
			}
			if t.RoleArn == "" {
				t.RoleArn, t.ExternalID = d.RoleArn, d.ExternalID
			}
			if t.Options().IsZero() {
				t.Direction, t.Protocol, t.Ports, t.MaxRules = d.Direction, d.Protocol, d.Ports, d.MaxRules
			}
		}
		k, known := c.Kinds().Lookup(t.Type)
		if !known {
			continue // validate says so
		}
		rules := k.Rules()
		if t.Name == "" {
			// Default: the key id or endpoint id, so that a list of resources
			// (the SAM template's parameters) needs no names.
			t.Name = t.Resource[strings.LastIndex(t.Resource, "/")+1:]
			if rules.NameFromResource != nil {
				t.Name = rules.NameFromResource(t.Resource)
			}
		}
		if len(t.Sources) == 0 && len(t.Static) == 0 {
			for _, src := range rules.DefaultSources {
				s, err := ParseSource(src)
				if err != nil {
					return fmt.Errorf("kind %s: default source %q: %w", k.Type(), src, err)
				}
				t.Sources = append(t.Sources, s)
			}
		}
	}
	return nil
}

// VerifiesEncryption reports whether any target guards encryption at rest
// (names encryptionAtRestProjects): such runs read Atlas projects and
// watch their changes.
func (c *Config) VerifiesEncryption() bool {
	for _, t := range c.Targets {
		if len(t.EncryptionAtRestProjects) > 0 {
			return true
		}
	}
	return false
}

// Marshal writes the config, defaults filled in, as the JSON Parse reads:
// what `ipsync config` prints for IPSYNC_CONFIG.
func Marshal(c *Config) ([]byte, error) { return json.Marshal(c) }
