package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	registry "github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// countingStore counts what is published beside the snapshot, and can
// refuse it.
type countingStore struct {
	*snapshotstore.FileStore
	puts []string
	fail error
}

func (s *countingStore) PutBeside(ctx context.Context, rel string, body []byte) error {
	if s.fail != nil {
		return s.fail
	}
	s.puts = append(s.puts, rel)
	return s.FileStore.PutBeside(ctx, rel, body)
}

// Each target's set is published beside the snapshot after a run that
// leaves it in sync, and again only when it changes; a set that cannot be
// published fails the run, which the next run tries again.
func TestEachTargetsSetIsPublishedBesideTheSnapshotWhenItChanges(t *testing.T) {
	reg := append(registry.All(), fakeKind{})
	dir := t.TempDir()
	doc := `{"snapshot":{"url":"file://` + filepath.Join(dir, "s.json") + `"},"guards":{"maxRemovePercent":100,"removalGrace":"0s"},
	  "targets":[{"name":"f","type":"fake-allow-list","resource":"list-1","sid":"ipsync","sources":["control-plane-outbound"]}]}`
	cfg, err := config.ParseWith([]byte(doc), reg)
	if err != nil {
		t.Fatal(err)
	}
	lists := &fakeLists{owned: map[string]ipset.Set{}}
	store := &countingStore{FileStore: snapshotstore.NewFileStore(filepath.Join(dir, "s.json"))}
	src := &fakeSource{ans: answer("3.212.79.116", "3.92.113.229")}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	d := reconcile.Deps{Atlas: src, Store: store, Adapters: target.Adapters{{Type: fakeType}: lists}, Now: func() time.Time { return now }}
	o := reconcile.Options{VerifyWait: time.Millisecond}

	if r := reconcile.Run(context.Background(), cfg, d, o); r.Err != nil || r.Status != plan.Applied {
		t.Fatalf("first run: %s %v", r.Status, r.Err)
	}
	read := func() snapshot.TargetSet {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "targets", "f.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s snapshot.TargetSet
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	got := read()
	if strings.Join(got.CIDRs, " ") != "3.92.113.229/32 3.212.79.116/32" || got.Hash != snapshot.SetHash(lists.owned["list-1"]) || got.Type != "fake-allow-list" || !got.GeneratedAt.Equal(now) {
		t.Fatalf("published %+v", got)
	}
	if r := reconcile.Run(context.Background(), cfg, d, o); r.Status != plan.InSync || len(store.puts) != 1 {
		t.Fatalf("in sync: %s, %d publications (want the first run's only)", r.Status, len(store.puts))
	}

	src.ans = answer("3.212.79.116", "44.210.7.7")
	store.fail = errors.New("disk full")
	r := reconcile.Run(context.Background(), cfg, d, o)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "publish the set of target f: disk full") || r.Status != plan.Error {
		t.Fatalf("publication refused: %s %v", r.Status, r.Err)
	}
	store.fail = nil
	if r := reconcile.Run(context.Background(), cfg, d, o); r.Err != nil || len(store.puts) != 2 || strings.Join(read().CIDRs, " ") != "3.212.79.116/32 44.210.7.7/32" {
		t.Fatalf("the next run publishes it: %v, %d publications, %v", r.Err, len(store.puts), read().CIDRs)
	}
}
