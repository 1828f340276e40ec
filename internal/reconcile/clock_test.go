package reconcile_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot/location"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// validKey answers awsKms.valid true and counts the questions.
type validKey struct {
	mu    sync.Mutex
	asked int
}

func (v *validKey) EncryptionAtRest(context.Context, string) (atlas.EncryptionAtRest, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked++
	return atlas.EncryptionAtRest{Valid: true}, nil
}

// sleeps records the pauses a run asks for and returns at once.
type sleeps struct {
	mu    sync.Mutex
	total time.Duration
}

func (s *sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.total += d
	s.mu.Unlock()
	return nil
}

// The verify window is counted in the run's own pauses, not read off the
// wall clock: with an injected Sleep, a 2-minute window with a 10-second
// interval asks Atlas 13 times (at 0, 10s, …, 120s) and pauses 120 s in
// all, however fast the test runs, and with a clock that stands still.
func TestVerifyWindowIsCountedInPauses(t *testing.T) {
	cfg, err := configfile.Parse([]byte(`
snapshot:
  url: file://` + filepath.Join(t.TempDir(), "s.json") + `
verify: {window: 2m, interval: 10s}
targets:
  - {name: a, type: kms-key-policy, resource: ` + keyA + `, sid: AtlasIPAllowList, encryptionAtRestProjects: ["5aec7afbf7d068e35a39809b"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	mem := &memPolicies{docs: map[string]string{keyA: testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32")}, writes: map[string]int{}}
	loc, _ := location.Parse(cfg.Snapshot.URL)
	key, paused := &validKey{}, &sleeps{}
	d := reconcile.Deps{
		Atlas:      fakeSource{ans: answer("3.212.79.116", "3.92.113.229")},
		Encryption: key,
		Store:      snapshotstore.NewFileStore(loc.Path),
		Adapters:   target.Adapters{{Type: "kms-key-policy"}: mem},
		Now:        func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) },
		Sleep:      paused.Sleep,
	}
	r := reconcile.Run(context.Background(), cfg, d, reconcile.Options{})
	if r.Err != nil || r.Status != plan.Applied {
		t.Fatalf("run: %s %v", r.Status, r.Err)
	}
	// One question before the change, 13 after it.
	if key.asked != 14 || paused.total != 120*time.Second {
		t.Fatalf("asked Atlas %d times, paused %s; want 14 and 2m0s", key.asked, paused.total)
	}
}
