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
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot/location"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// memPolicies is an in-memory adapter of key policies; failWrite makes
// writes to one resource fail, staleReads makes reads ignore writes (never
// verified).
type memPolicies struct {
	mu         sync.Mutex
	docs       map[string]string
	writes     map[string]int
	failWrite  string
	staleReads bool
}

func (m *memPolicies) Read(_ context.Context, ref target.Ref) (target.Fence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return kmspolicy.Fence([]byte(m.docs[ref.Resource]), ref.Sid)
}

func (m *memPolicies) Write(_ context.Context, ref target.Ref, c target.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := ref.Resource
	m.writes[id]++
	if id == m.failWrite {
		return errors.New("AccessDeniedException: not allowed")
	}
	if !m.staleReads {
		m.docs[id] = string(c.Document)
	}
	return nil
}

type recorder struct {
	mu     sync.Mutex
	alerts []notify.Alert
}

func (r *recorder) Publish(_ context.Context, a notify.Alert) error {
	r.mu.Lock()
	r.alerts = append(r.alerts, a)
	r.mu.Unlock()
	return nil
}

func (r *recorder) events() string {
	var e []string
	for _, a := range r.alerts {
		e = append(e, string(a.Event)+":"+a.Key)
	}
	r.alerts = nil
	return strings.Join(e, ",")
}

const (
	keyA = "11111111-1111-1111-1111-111111111111"
	keyB = "22222222-2222-2222-2222-222222222222"
)

func twoTargets(t *testing.T) (*config.Config, *memPolicies, *recorder, reconcile.Deps) {
	t.Helper()
	cfg, err := configfile.Parse([]byte(`
snapshot:
  url: file://` + filepath.Join(t.TempDir(), "s.json") + `
targets:
  - {name: a, type: kms-key-policy, resource: ` + keyA + `, sid: AtlasIPAllowList}
  - {name: b, type: kms-key-policy, resource: ` + keyB + `, sid: AtlasIPAllowList}
`))
	if err != nil {
		t.Fatal(err)
	}
	mem := &memPolicies{docs: map[string]string{
		keyA: testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"),
		keyB: testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"),
	}, writes: map[string]int{}}
	rec := &recorder{}
	loc, _ := location.Parse(cfg.Snapshot.URL)
	d := reconcile.Deps{
		Atlas:    fakeSource{ans: answer("3.212.79.116", "3.92.113.229")},
		Store:    snapshotstore.NewFileStore(loc.Path),
		Adapters: target.Adapters{{Type: kmspolicy.Type}: mem},
		Notify:   rec,
		Now:      func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) },
	}
	return cfg, mem, rec, d
}

func TestWriteFailureDoesNotStopTheOthers(t *testing.T) {
	cfg, mem, rec, d := twoTargets(t)
	mem.failWrite = keyA
	r := reconcile.Run(context.Background(), cfg, d, reconcile.Options{VerifyWait: time.Millisecond})
	if r.Status != plan.Error {
		t.Fatalf("status %s, want error", r.Status)
	}
	if r.Targets[0].Status != plan.Error || !strings.Contains(r.Targets[0].Reason, "AccessDenied") || r.Targets[1].Status != plan.Applied {
		t.Fatalf("targets %s (%s), %s", r.Targets[0].Status, r.Targets[0].Reason, r.Targets[1].Status)
	}
	if got := rec.events(); got != "failed:a,applied:b" {
		t.Fatalf("alerts %q", got)
	}
	snap, _, err := d.Store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Targets["a"]; ok {
		t.Fatal("the failed target's record advanced")
	}
	if rb, ok := snap.Targets["b"]; !ok || rb.Written.String() != "[3.92.113.229/32 3.212.79.116/32]" {
		t.Fatalf("b's record %+v", rb)
	}
	// Next run: a is retried (it still differs), b is left alone.
	mem.failWrite = ""
	r = reconcile.Run(context.Background(), cfg, d, reconcile.Options{VerifyWait: time.Millisecond})
	if r.Err != nil || r.Targets[0].Status != plan.Applied || r.Targets[1].Status != plan.InSync {
		t.Fatalf("retry run: %s %s %v", r.Targets[0].Status, r.Targets[1].Status, r.Err)
	}
	if mem.writes[keyA] != 2 || mem.writes[keyB] != 1 {
		t.Fatalf("writes %v", mem.writes)
	}
	if got := rec.events(); got != "recovered:a,applied:a" {
		t.Fatalf("alerts %q", got)
	}
}

func TestUnverifiedWriteIsAFailure(t *testing.T) {
	cfg, mem, _, d := twoTargets(t)
	mem.staleReads = true
	r := reconcile.Run(context.Background(), cfg, d, reconcile.Options{VerifyAttempts: 3, VerifyWait: time.Millisecond})
	if r.Status != plan.Error || !strings.Contains(r.Targets[0].Reason, "reading it back 3 times did not show the desired set") {
		t.Fatalf("status %s reason %q", r.Status, r.Targets[0].Reason)
	}
}
