// Package config loads and validates the ipsync configuration (YAML or JSON,
// DESIGN.md "Config"). Unknown keys are errors, defaults are filled in, and
// every problem is reported before any call is made.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration.
type Config struct {
	Atlas    Atlas    `yaml:"atlas"`
	Snapshot Snapshot `yaml:"snapshot"`
	Notify   Notify   `yaml:"notify"`
	Trigger  Trigger  `yaml:"trigger"`
	Webhook  Webhook  `yaml:"webhook"`
	Guards   Guards   `yaml:"guards"`
	// TargetDefaults gives, per target type, the sid and sources of targets
	// that leave them out (many keys with one statement layout, or the SAM
	// template, which can only list resource ids).
	TargetDefaults map[string]TargetDefault `yaml:"targetDefaults"`
	Targets        []Target                 `yaml:"targets"`
}

// TargetDefault is the sid and sources a target of one type inherits.
type TargetDefault struct {
	Sid     string   `yaml:"sid"`
	Sources []Source `yaml:"sources"`
}

// Atlas says where Atlas is, how to authenticate and which projects to read.
type Atlas struct {
	BaseURL     string      `yaml:"baseURL"`
	Credentials Credentials `yaml:"credentials"`
	Projects    []string    `yaml:"projects"`
	// Concurrency is how many projects are fetched at once (default 8).
	Concurrency int `yaml:"concurrency"`
}

// Credentials points at a Secrets Manager secret; without one, the
// credentials come from the environment (see atlas.CredentialsFromEnv).
type Credentials struct {
	SecretID string `yaml:"secretId"`
}

// Snapshot says where the snapshot is kept.
type Snapshot struct {
	URL string `yaml:"url"`
}

// Notify says where alerts go.
type Notify struct {
	TopicArn string `yaml:"topicArn"`
}

// Trigger is the queue webhooks enqueue runs on.
type Trigger struct {
	QueueURL string `yaml:"queueUrl"`
}

// Webhook configures the webhook function.
type Webhook struct {
	SecretID string `yaml:"secretId"` // the Atlas webhook secret
	// EventTypes, when set, lists the alert types that trigger a run; other
	// signed alerts are acknowledged and dropped. Default: every alert.
	EventTypes []string `yaml:"eventTypes"`
	// CheckSource refuses (403) requests whose source address is not among
	// Atlas's control-plane outbound addresses in the latest snapshot, before
	// the signature is computed. With no snapshot yet, every request is refused.
	CheckSource bool `yaml:"checkSource"`
}

// Guards are the safety limits (DESIGN.md "Safety guards").
type Guards struct {
	MinAddresses     int      `yaml:"minAddresses"`
	MaxRemovePercent float64  `yaml:"maxRemovePercent"`
	RemovalGrace     Duration `yaml:"removalGrace"`
}

// Target is one policy document the tool owns a statement of.
type Target struct {
	Name     string   `yaml:"name"` // default: the key id or endpoint id
	Type     string   `yaml:"type"`
	Resource string   `yaml:"resource"`
	Sid      string   `yaml:"sid"`
	Sources  []Source `yaml:"sources"`
	Static   []string `yaml:"static"`
}

// Defaults for values the config leaves out.
const (
	DefaultBaseURL          = "https://cloud.mongodb.com"
	DefaultAtlasConcurrency = 8
	DefaultSnapshotURL      = "file://.ipsync/snapshot.json"
	DefaultMinAddresses     = 1
	DefaultMaxRemovePercent = 30
	DefaultRemovalGrace     = 24 * time.Hour
)

// Duration is a time.Duration written as "24h", "90m".
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 24h", n.Line)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 24h or 90m", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Parse reads a YAML or JSON document (JSON is YAML), fills defaults and
// validates it. All problems are reported together.
func Parse(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config: empty document")
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("config: more than one document")
	}
	// Guards left out take the safe defaults; an explicit value is validated.
	var raw struct {
		Guards map[string]any `yaml:"guards"`
	}
	_ = yaml.Unmarshal(data, &raw)
	if _, ok := raw.Guards["minAddresses"]; !ok {
		c.Guards.MinAddresses = DefaultMinAddresses
	}
	if _, ok := raw.Guards["maxRemovePercent"]; !ok {
		c.Guards.MaxRemovePercent = DefaultMaxRemovePercent
	}
	if _, ok := raw.Guards["removalGrace"]; !ok {
		c.Guards.RemovalGrace = Duration(DefaultRemovalGrace)
	}
	if c.Atlas.Concurrency == 0 {
		c.Atlas.Concurrency = DefaultAtlasConcurrency
	}
	if c.Atlas.BaseURL == "" {
		c.Atlas.BaseURL = DefaultBaseURL
	}
	if c.Snapshot.URL == "" {
		c.Snapshot.URL = DefaultSnapshotURL
	}
	for i := range c.Targets {
		if d, ok := c.TargetDefaults[c.Targets[i].Type]; ok {
			if c.Targets[i].Sid == "" {
				c.Targets[i].Sid = d.Sid
			}
			if len(c.Targets[i].Sources) == 0 && len(c.Targets[i].Static) == 0 {
				c.Targets[i].Sources = d.Sources
			}
		}
		if c.Targets[i].Name == "" {
			// Default: the key id or endpoint id, so that a list of resources
			// (the SAM template's parameters) needs no names.
			r := c.Targets[i].Resource
			c.Targets[i].Name = r[strings.LastIndex(r, "/")+1:]
		}
		if len(c.Targets[i].Sources) == 0 && len(c.Targets[i].Static) == 0 && c.Targets[i].Type == TypeKMSKeyPolicy {
			// Atlas's guidance for KMS: allow the control plane's outbound
			// addresses of every provider and region.
			c.Targets[i].Sources = []Source{{Kind: SourceControlPlaneOutbound}}
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}
