package reconcile_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// stormStore is a snapshot store where another run's lease ends as soon
// as a waiting run looks, and a new run has taken the next one by the time
// it starts again (a storm of triggers): every other Load shows a lease.
type stormStore struct {
	snapshot.Store
	now   func() time.Time
	loads *atomic.Int64
}

func (s stormStore) Load(ctx context.Context) (*snapshot.Snapshot, snapshot.Version, error) {
	snap, v, err := s.Store.Load(ctx)
	if err == nil && s.loads.Add(1)%2 == 1 {
		snap.Lease = &snapshot.Lease{Holder: "another run", Until: s.now().Add(time.Hour)}
	}
	return snap, v, err
}

// A run that keeps finding another run's lease gives up after a bounded
// number of waits instead of waiting for ever.
func TestBusyWaitsAreBounded(t *testing.T) {
	cfg, err := configfile.Parse([]byte(`
atlas: {projects: ["5aec7afbf7d068e35a39809b"]}
targets:
  - {name: key, type: kms-key-policy, resource: 1234abcd-12ab-34cd-56ef-1234567890ab, sid: AtlasIPAllowList}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	file := snapshotstore.NewFileStore(filepath.Join(t.TempDir(), "snapshot.json"))
	seed, err := reconcile.Fetch(context.Background(), fakeSource{ans: answer("3.212.79.116")}, cfg.Atlas.Projects, now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Save(context.Background(), seed, ""); err != nil {
		t.Fatal(err)
	}
	d := reconcile.Deps{
		Atlas:    fakeSource{ans: answer("3.212.79.116", "34.193.91.42")},
		Store:    stormStore{Store: file, now: now, loads: &atomic.Int64{}},
		Adapters: target.Adapters{{Type: kmspolicy.Type}: &memPolicies{docs: map[string]string{"1234abcd-12ab-34cd-56ef-1234567890ab": testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32")}, writes: map[string]int{}}},
		Now:      now,
		Sleep:    func(context.Context, time.Duration) error { return nil }, // the waits are counted, not lived
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := reconcile.Run(ctx, cfg, d, reconcile.Options{BusyWait: 250 * time.Millisecond})
	if r.Status != plan.Error || r.Err == nil || !strings.Contains(r.Err.Error(), "held the snapshot 10 times in a row") {
		t.Fatalf("run: %s %v", r.Status, r.Err)
	}
}
