// Package reconcile is the one loop: fetch → snapshot → plan → guards →
// apply → record → notify (docs/design.md). Callers — the Lambda handlers, the CLI,
// tests — are thin; everything they share lives here.
package reconcile

import (
	"context"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// AtlasSource fetches what Atlas says about the configured projects.
type AtlasSource interface {
	FetchAll(ctx context.Context, groupIDs []string) (atlas.Answer, error)
}

// Fetch asks Atlas and returns the answer as a sealed snapshot. Any error
// means no snapshot: a partial answer never reaches a policy.
func Fetch(ctx context.Context, src AtlasSource, projects []string, now time.Time) (*snapshot.Snapshot, error) {
	ans, err := src.FetchAll(ctx, projects)
	if err != nil {
		return nil, err
	}
	return SnapshotOf(ans, now), nil
}

// SnapshotOf turns a fetched answer into a sealed snapshot taken at `at`.
func SnapshotOf(ans atlas.Answer, at time.Time) *snapshot.Snapshot {
	s := &snapshot.Snapshot{
		FetchedAt: at.UTC().Truncate(time.Second),
		ControlPlane: snapshot.ControlPlane{
			Inbound:  regions(ans.ControlPlane.Inbound),
			Outbound: regions(ans.ControlPlane.Outbound),
		},
		Projects: make(map[string]snapshot.Project, len(ans.Projects)),
	}
	for _, g := range ans.ControlPlane.Gateways {
		if s.ControlPlane.Gateways == nil {
			s.ControlPlane.Gateways = map[string]snapshot.Gateway{}
		}
		s.ControlPlane.Gateways[g.Name] = snapshot.Gateway{Inbound: regions(g.Inbound), Outbound: regions(g.Outbound)}
	}
	for _, p := range ans.Projects {
		clusters := make(map[string]snapshot.Cluster, len(p.Clusters))
		for _, c := range p.Clusters {
			clusters[c.Name] = snapshot.Cluster{
				Inbound: c.Inbound, Outbound: c.Outbound,
				FutureInbound: c.FutureInbound, FutureOutbound: c.FutureOutbound,
			}
		}
		s.Projects[p.GroupID] = snapshot.Project{Clusters: clusters}
	}
	s.Seal()
	return s
}

func regions(in atlas.ProviderIPs) snapshot.Regions {
	out := make(snapshot.Regions, len(in))
	for provider, byRegion := range in {
		out[provider] = make(map[string]ipset.Set, len(byRegion))
		for region, set := range byRegion {
			out[provider][region] = set
		}
	}
	return out
}
