package reconcile_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

type fakeSource struct {
	ans atlas.Answer
	err error
}

func (f fakeSource) FetchAll(context.Context, []string) (atlas.Answer, error) { return f.ans, f.err }

func answer(outbound ...string) atlas.Answer {
	return atlas.Answer{
		ControlPlane: atlas.ControlPlane{
			Inbound:  atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse("3.92.113.229")}},
			Outbound: atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse(outbound...)}},
			Gateways: []atlas.Gateway{{Name: "atlas-gateway", Inbound: atlas.ProviderIPs{"aws": {"eu-west-1": ipset.MustParse("3.3.3.3")}}}},
		},
		Projects: []atlas.Project{{GroupID: "5aec7afbf7d068e35a39809b", Clusters: []atlas.Cluster{
			{Name: "c0", Inbound: ipset.MustParse("192.0.2.1"), FutureOutbound: ipset.MustParse("198.51.100.2")},
		}}},
	}
}

func TestFetchBuildsASealedSnapshot(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123, time.FixedZone("x", 3600))
	s, err := reconcile.Fetch(context.Background(), fakeSource{ans: answer("3.212.79.116")}, nil, at)
	if err != nil {
		t.Fatal(err)
	}
	if !s.FetchedAt.Equal(at.Truncate(time.Second)) || s.FetchedAt.Location() != time.UTC {
		t.Errorf("fetchedAt = %v", s.FetchedAt)
	}
	if s.Hash != s.ContentHash() || s.SchemaVersion != snapshot.SchemaVersion {
		t.Errorf("not sealed: %q %d", s.Hash, s.SchemaVersion)
	}
	c := s.Projects["5aec7afbf7d068e35a39809b"].Clusters["c0"]
	if c.FutureOutbound.String() != "[198.51.100.2/32]" || c.Inbound.String() != "[192.0.2.1/32]" {
		t.Errorf("cluster = %+v", c)
	}
	if s.ControlPlane.Gateways["atlas-gateway"].Inbound["aws"]["eu-west-1"].Len() != 1 {
		t.Errorf("gateways = %+v", s.ControlPlane.Gateways)
	}
	again, _ := reconcile.Fetch(context.Background(), fakeSource{ans: answer("3.212.79.116")}, nil, at.Add(time.Hour))
	if again.Hash != s.Hash {
		t.Error("same answer an hour later has another hash")
	}
	changed, _ := reconcile.Fetch(context.Background(), fakeSource{ans: answer("3.212.79.117")}, nil, at)
	if changed.Hash == s.Hash {
		t.Error("changed answer has the same hash")
	}
}

func TestFetchErrorGivesNoSnapshot(t *testing.T) {
	boom := errors.New("boom")
	s, err := reconcile.Fetch(context.Background(), fakeSource{ans: answer("1.1.1.1"), err: boom}, nil, time.Now())
	if !errors.Is(err, boom) || s != nil {
		t.Fatalf("got %v, %v", s, err)
	}
}
