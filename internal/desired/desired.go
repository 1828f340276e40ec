// Package desired computes what a target's sources say, from a snapshot of
// Atlas's answer: the addresses its fence should allow before static CIDRs
// and the removal grace are added (internal/plan), each part named by where
// in the answer it lies, for admission's verdicts. It does no I/O.
package desired

import (
	"maps"
	"slices"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// Sources is the union of what a target's sources say in a snapshot.
// Static CIDRs are not included: they are the config's, not Atlas's.
func Sources(s *snapshot.Snapshot, sources []config.Source) ipset.Set {
	return Union(Parts(s, sources))
}

// Union is the addresses of every part.
func Union(parts []admission.Part) ipset.Set {
	sets := make([]ipset.Set, len(parts))
	for i, p := range parts {
		sets[i] = p.Set
	}
	return ipset.Union(sets...)
}

// Parts are what a target's sources take from a snapshot, each part named
// as admission's verdicts name it: "controlPlane.outbound.aws.us-east-1",
// "controlPlane.gateways.g.inbound.aws.us-east-1", "project P cluster C
// futureInbound". A part two sources take appears once.
func Parts(s *snapshot.Snapshot, sources []config.Source) []admission.Part {
	var out []admission.Part
	seen := map[string]bool{}
	add := func(p admission.Part) {
		if !seen[p.Source] {
			seen[p.Source] = true
			out = append(out, p)
		}
	}
	for _, src := range sources {
		switch src.Kind {
		case config.SourceControlPlaneOutbound:
			regions(s.ControlPlane.Outbound, "controlPlane.outbound", src, add)
		case config.SourceControlPlaneInbound:
			regions(s.ControlPlane.Inbound, "controlPlane.inbound", src, add)
		case config.SourceGatewaysOutbound, config.SourceGatewaysInbound:
			for _, name := range slices.Sorted(maps.Keys(s.ControlPlane.Gateways)) {
				g := s.ControlPlane.Gateways[name]
				if src.Kind == config.SourceGatewaysInbound {
					regions(g.Inbound, "controlPlane.gateways."+name+".inbound", src, add)
				} else {
					regions(g.Outbound, "controlPlane.gateways."+name+".outbound", src, add)
				}
			}
		case config.SourceNodes, config.SourceNodesInbound, config.SourceNodesOutbound:
			nodes(s, src.Kind != config.SourceNodesOutbound, src.Kind != config.SourceNodesInbound, add)
		}
	}
	return out
}

// Answer is every part of a snapshot's answer: what admission judges for
// ipsync fetch, whichever targets take it.
func Answer(s *snapshot.Snapshot) []admission.Part {
	var all []config.Source
	for _, k := range []string{config.SourceControlPlaneOutbound, config.SourceControlPlaneInbound, config.SourceGatewaysOutbound, config.SourceGatewaysInbound, config.SourceNodes} {
		all = append(all, config.Source{Kind: k})
	}
	return Parts(s, all)
}

// regions adds the parts of a provider → region map a source names.
func regions(r snapshot.Regions, where string, src config.Source, add func(admission.Part)) {
	for _, provider := range slices.Sorted(maps.Keys(r)) {
		if src.Provider != "" && provider != src.Provider {
			continue
		}
		for _, region := range slices.Sorted(maps.Keys(r[provider])) {
			if src.Region != "" && region != src.Region {
				continue
			}
			add(admission.Part{Source: where + "." + provider + "." + region, Set: r[provider][region]})
		}
	}
}

// nodes adds every cluster's node addresses of the directions asked.
func nodes(s *snapshot.Snapshot, inbound, outbound bool, add func(admission.Part)) {
	for _, id := range slices.Sorted(maps.Keys(s.Projects)) {
		clusters := s.Projects[id].Clusters
		for _, name := range slices.Sorted(maps.Keys(clusters)) {
			c := clusters[name]
			where := "project " + id + " cluster " + name + " "
			if inbound {
				add(admission.Part{Source: where + "inbound", Set: c.Inbound})
				add(admission.Part{Source: where + "futureInbound", Set: c.FutureInbound})
			}
			if outbound {
				add(admission.Part{Source: where + "outbound", Set: c.Outbound})
				add(admission.Part{Source: where + "futureOutbound", Set: c.FutureOutbound})
			}
		}
	}
}
