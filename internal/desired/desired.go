// Package desired computes what a target's sources say, from a snapshot of
// Atlas's answer: the addresses its fence should allow before static CIDRs
// and the removal grace are added (internal/plan). It does no I/O.
package desired

import (
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// Sources is the union of what a target's sources say in a snapshot.
// Static CIDRs are not included: they are the config's, not Atlas's.
func Sources(s *snapshot.Snapshot, sources []config.Source) ipset.Set {
	var parts []ipset.Set
	for _, src := range sources {
		switch src.Kind {
		case config.SourceControlPlaneOutbound:
			parts = append(parts, narrow(s.ControlPlane.Outbound, src))
		case config.SourceControlPlaneInbound:
			parts = append(parts, narrow(s.ControlPlane.Inbound, src))
		case config.SourceGatewaysOutbound, config.SourceGatewaysInbound:
			for _, g := range s.ControlPlane.Gateways {
				r := g.Outbound
				if src.Kind == config.SourceGatewaysInbound {
					r = g.Inbound
				}
				parts = append(parts, narrow(r, src))
			}
		case config.SourceNodes, config.SourceNodesInbound, config.SourceNodesOutbound:
			for _, p := range s.Projects {
				for _, c := range p.Clusters {
					if src.Kind != config.SourceNodesOutbound {
						parts = append(parts, c.Inbound, c.FutureInbound)
					}
					if src.Kind != config.SourceNodesInbound {
						parts = append(parts, c.Outbound, c.FutureOutbound)
					}
				}
			}
		}
	}
	return ipset.Union(parts...)
}

// narrow takes the part of a provider → region map a source names.
func narrow(r snapshot.Regions, src config.Source) ipset.Set {
	var parts []ipset.Set
	for provider, byRegion := range r {
		if src.Provider != "" && provider != src.Provider {
			continue
		}
		for region, set := range byRegion {
			if src.Region != "" && region != src.Region {
				continue
			}
			parts = append(parts, set)
		}
	}
	return ipset.Union(parts...)
}
