package reconcile_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
	registry "github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// fakeKind is a kind that exists only in this test: an allow list of at
// most three entries, resources named "list-…". Registered with the config
// and given an adapter, it must work through the whole loop with no other
// change (docs/development.md "How to add a kind").
type fakeKind struct{}

const fakeType target.Type = "fake-allow-list"

var fakeCapacity = target.Capacity{Name: "fake allow list", Max: 3, Unit: target.Entries}

func (fakeKind) Type() target.Type         { return fakeType }
func (fakeKind) Noun() string              { return "fake allow list" }
func (fakeKind) Capacity() target.Capacity { return fakeCapacity }
func (fakeKind) Rules() target.Rules       { return target.Rules{} }
func (fakeKind) Example(string, []string) string {
	return ""
}
func (fakeKind) Words() target.Words {
	return target.Words{Part: "the fake entries", Plural: true, Updated: "The fake entries were updated.", Size: "fake list"}
}
func (fakeKind) CheckResource(r string) error {
	if !strings.HasPrefix(r, "list-") {
		return errors.New("want list-…")
	}
	return nil
}

// fakeLists holds each list's entries: ipsync's and one of someone else.
type fakeLists struct {
	mu     sync.Mutex
	owned  map[string]ipset.Set
	writes int
}

func (f *fakeLists) Read(_ context.Context, ref target.Ref) (target.Fence, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	set := f.owned[ref.Resource]
	return entries.New(entries.List{Managed: set, Count: set.Len(), Others: 1, Limit: fakeCapacity}), nil
}

func (f *fakeLists) Write(_ context.Context, ref target.Ref, c target.Change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	f.owned[ref.Resource] = c.Set
	return nil
}

func TestAKindRegisteredInATestWorksThroughTheLoop(t *testing.T) {
	reg := append(registry.All(), fakeKind{})
	doc := `{"snapshot":{"url":"file://` + filepath.Join(t.TempDir(), "s.json") + `"},
	  "targets":[{"name":"f","type":"fake-allow-list","resource":"list-1","sid":"ipsync","sources":["control-plane-outbound"]}]}`
	if _, err := config.Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), `type "fake-allow-list"`) {
		t.Fatalf("without the registry entry the config must refuse the type: %v", err)
	}
	cfg, err := config.ParseWith([]byte(doc), reg)
	if err != nil {
		t.Fatal(err)
	}
	if bad, err := config.ParseWith([]byte(strings.Replace(doc, "list-1", "other", 1)), reg); err == nil {
		t.Fatalf("the kind's resource check did not run: %+v", bad)
	}
	lists := &fakeLists{owned: map[string]ipset.Set{}}
	rec := &recorder{}
	store := snapshotstore.NewFileStore(strings.TrimPrefix(cfg.Snapshot.URL, "file://"))
	src := &fakeSource{ans: answer("3.212.79.116", "3.92.113.229")}
	d := reconcile.Deps{
		Atlas:    src,
		Store:    store,
		Adapters: target.Adapters{{Type: fakeType}: lists},
		Notify:   rec,
		Now:      func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) },
	}
	o := reconcile.Options{VerifyWait: time.Millisecond}

	r := reconcile.Run(context.Background(), cfg, d, o)
	if r.Err != nil || r.Targets[0].Status != plan.Applied || r.Targets[0].Reason != "first run: the fake entries are replaced with the desired addresses, whatever they held" {
		t.Fatalf("first run: %v %+v", r.Err, r.Targets[0])
	}
	if got := lists.owned["list-1"].String(); got != "[3.92.113.229/32 3.212.79.116/32]" || r.Targets[0].Size != 3 || r.Targets[0].Limit != 3 {
		t.Fatalf("the list holds %s; size %d of %d", got, r.Targets[0].Size, r.Targets[0].Limit)
	}
	if len(rec.alerts) != 1 || !strings.Contains(rec.alerts[0].Body, "The fake entries were updated.") {
		t.Fatalf("alerts %+v", rec.alerts)
	}
	rec.alerts = nil

	if r := reconcile.Run(context.Background(), cfg, d, o); r.Status != plan.InSync || lists.writes != 1 {
		t.Fatalf("second run: %s, %d writes", r.Status, lists.writes)
	}

	// A third address does not fit beside the other owner's entry: the
	// kind's capacity refuses it before any write.
	src.ans = answer("3.212.79.116", "3.92.113.229", "44.210.7.7")
	r = reconcile.Run(context.Background(), cfg, d, o)
	if r.Status != plan.Refused || r.Targets[0].Reason != "the fake allow list would hold 4 entries; the limit is 3" || lists.writes != 1 {
		t.Fatalf("over capacity: %s %q, %d writes", r.Status, r.Targets[0].Reason, lists.writes)
	}
}
