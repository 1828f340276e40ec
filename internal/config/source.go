package config

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Source kinds (docs/design.md "Sources").
const (
	SourceControlPlaneOutbound = "control-plane-outbound"
	SourceControlPlaneInbound  = "control-plane-inbound"
	SourceGatewaysOutbound     = "gateways-outbound"
	SourceGatewaysInbound      = "gateways-inbound"
	SourceNodes                = "nodes"
	SourceNodesInbound         = "nodes-inbound"
	SourceNodesOutbound        = "nodes-outbound"
	// SourceNATGateways is the Elastic IPs of the NAT gateways tagged
	// KEY=VALUE ("nat-gateways:Name=prod-egress"): the addresses your own
	// applications reach Atlas from, for an atlas-access-list target.
	SourceNATGateways = "nat-gateways"
)

// Source is one feed of addresses for a target, optionally narrowed:
// "control-plane-outbound:aws" or "control-plane-outbound:aws/us-east-1".
type Source struct {
	Kind     string
	Provider string // control-plane and gateway sources only
	Region   string // with Provider
	TagKey   string // nat-gateways only
	TagValue string
}

func (s Source) String() string {
	switch {
	case s.Kind == SourceNATGateways:
		return s.Kind + ":" + s.TagKey + "=" + s.TagValue
	case s.Region != "":
		return s.Kind + ":" + s.Provider + "/" + s.Region
	case s.Provider != "":
		return s.Kind + ":" + s.Provider
	}
	return s.Kind
}

// UsesNodes reports whether the source reads project node addresses.
func (s Source) UsesNodes() bool { return strings.HasPrefix(s.Kind, "nodes") }

// ParseSource reads a source name.
func ParseSource(v string) (Source, error) {
	kind, narrow, narrowed := strings.Cut(v, ":")
	if kind == SourceNATGateways {
		key, value, ok := strings.Cut(narrow, "=")
		if !narrowed || !ok || key == "" || len(key) > 128 || len(value) > 256 {
			return Source{}, fmt.Errorf("source %q: want nat-gateways:TAG_KEY=TAG_VALUE", v)
		}
		return Source{Kind: kind, TagKey: key, TagValue: value}, nil
	}
	switch kind {
	case SourceControlPlaneOutbound, SourceControlPlaneInbound, SourceGatewaysOutbound, SourceGatewaysInbound:
	case SourceNodes, SourceNodesInbound, SourceNodesOutbound:
		if narrowed {
			return Source{}, fmt.Errorf("source %q: node sources cannot be narrowed by provider or region", v)
		}
	default:
		return Source{}, fmt.Errorf("source %q: want one of control-plane-outbound, control-plane-inbound, gateways-outbound, gateways-inbound, nodes, nodes-inbound, nodes-outbound, nat-gateways:TAG_KEY=TAG_VALUE", v)
	}
	s := Source{Kind: kind}
	if narrowed {
		provider, region, hasRegion := strings.Cut(narrow, "/")
		if !validName(provider) || (hasRegion && !validName(region)) {
			return Source{}, fmt.Errorf("source %q: narrow it as %s:provider or %s:provider/region", v, kind, kind)
		}
		s.Provider, s.Region = provider, region
	}
	return s, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// MarshalJSON writes the source name.
func (s Source) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
