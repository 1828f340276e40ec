package hook

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// storeOf is a snapshot store that holds one snapshot.
type storeOf struct{ s *snapshot.Snapshot }

func (st storeOf) Load(context.Context) (*snapshot.Snapshot, snapshot.Version, error) {
	return st.s, "v1", nil
}

func (st storeOf) Save(context.Context, *snapshot.Snapshot, snapshot.Version) (snapshot.Version, error) {
	return "v2", nil
}

// A snapshot recorded with a prefix admission refuses (an earlier version
// wrote it) lets no one in through it; Atlas's real addresses still count.
func TestTheSourceCheckCountsOnlyAdmittedPrefixes(t *testing.T) {
	snap := &snapshot.Snapshot{ControlPlane: snapshot.ControlPlane{Outbound: snapshot.Regions{"aws": {
		"us-east-1": ipset.MustParse("3.92.113.229", "128.0.0.0/1"), "eu-west-1": ipset.MustParse("10.0.0.0/8"),
	}}}}
	check := &sourceCheck{store: storeOf{snap}, ttl: time.Minute, widest: admission.DefaultWidest}
	for addr, want := range map[string]bool{"3.92.113.229": true, "200.1.2.3": false, "10.1.2.3": false} {
		got, err := check.allowed(context.Background(), netip.MustParseAddr(addr))
		if err != nil || got != want {
			t.Errorf("allowed(%s) = %v, %v; want %v", addr, got, err, want)
		}
	}
}

func (storeOf) URL() string { return "mem://" }
