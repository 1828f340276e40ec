package testenv

import (
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// SampleSnapshot is a sealed snapshot of a small answer, fetched at
// fetchedAt, whose one cluster's inbound addresses are nodeIPs: what the
// snapshot's and the stores' tests read and write.
func SampleSnapshot(fetchedAt time.Time, nodeIPs ...string) *snapshot.Snapshot {
	s := &snapshot.Snapshot{
		FetchedAt: fetchedAt,
		ControlPlane: snapshot.ControlPlane{
			Inbound:  snapshot.Regions{"aws": {"us-east-1": ipset.MustParse("3.92.113.229")}},
			Outbound: snapshot.Regions{"aws": {"us-east-1": ipset.MustParse("3.212.79.116", "34.193.91.42")}},
		},
		Projects: map[string]snapshot.Project{
			"5aec7afbf7d068e35a39809b": {Clusters: map[string]snapshot.Cluster{
				"c0": {Inbound: ipset.MustParse(nodeIPs...), Outbound: ipset.MustParse("198.51.100.1")},
			}},
		},
	}
	s.Seal()
	return s
}
