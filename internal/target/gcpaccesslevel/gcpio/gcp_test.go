package gcpio

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const level = "accessPolicies/123456789/accessLevels/atlas_ip_sync"

func sim(t *testing.T) *gcptest.Server {
	t.Helper()
	s, err := gcptest.New(filepath.Join(testenv.Testdata(t), "gcp", "accesscontextmanager-v1-discovery.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p := s.Problems(); len(p) > 0 {
			t.Errorf("requests or answers off the discovery document: %v", p)
		}
		s.Close()
	})
	s.SetLevel(gcptest.Level{"name": level, "title": "atlas", "description": "atlas-ip-sync: Atlas's addresses",
		"basic": map[string]any{"combiningFunction": "OR", "conditions": []any{map[string]any{"ipSubnetworks": []any{"192.0.2.0/32"}}}}})
	return s
}

// client is what the wiring builds: Google's credentials from a service
// account key, whose token_uri is the simulator's.
func client(s *gcptest.Server) Client {
	return FromJSON(func(context.Context) ([]byte, error) { return s.ServiceAccountJSON(), nil })
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestReadWriteAgainstTheSimulator(t *testing.T) {
	s := sim(t)
	a := New(client(s), s.URL, noSleep)
	ctx := context.Background()
	ref := target.Ref{Resource: level, Sid: "atlas-ip-sync"}
	f, err := a.Read(ctx, ref)
	if err != nil || f.Owned().String() != "[192.0.2.0/32]" {
		t.Fatalf("%v %v", f, err)
	}
	var many []string
	for i := range 450 {
		many = append(many, fmt.Sprintf("10.%d.%d.1/32", i/100, 2*(i%100)))
	}
	many = append(many, "2001:db8::1/128")
	want := ipset.MustParse(many...)
	s.OperationPolls(2)
	c, err := f.Rewrite(want, f.Capacity())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, ref, c); err != nil {
		t.Fatal(err)
	}
	back, err := a.Read(ctx, ref)
	if err != nil || !back.Owned().Equal(want) {
		t.Fatalf("read back %v %v", back, err)
	}
	l := s.Level(level)
	conds := l["basic"].(map[string]any)["conditions"].([]any)
	if len(conds) != (want.Len()+199)/200 || l["description"] != "atlas-ip-sync: Atlas's addresses" || l["title"] != "atlas" {
		t.Fatalf("level %v", l)
	}
	if s.Calls(gcptest.OpOperation) != 2 || s.Calls(gcptest.OpPatchLevel) != 1 || s.Calls(gcptest.OpToken) != 1 {
		t.Fatalf("patch %d, operation polls %d, tokens %d", s.Calls(gcptest.OpPatchLevel), s.Calls(gcptest.OpOperation), s.Calls(gcptest.OpToken))
	}
}

// 429 with Retry-After is waited out; a level of someone else is never
// written; a missing level says so.
func TestFaultsAndRefusals(t *testing.T) {
	s := sim(t)
	var waits []time.Duration
	a := New(client(s), s.URL, func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil })
	ctx := context.Background()
	ref := target.Ref{Resource: level, Sid: "atlas-ip-sync"}
	s.Inject(gcptest.Fault{Op: gcptest.OpPatchLevel, Status: 429, RetryAfter: "7", Times: 1})
	if err := a.Write(ctx, ref, target.Change{Set: ipset.MustParse("198.51.100.1/32")}); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != 7*time.Second || s.Calls(gcptest.OpPatchLevel) != 2 {
		t.Fatalf("waits %v, patches %d", waits, s.Calls(gcptest.OpPatchLevel))
	}
	s.Inject(gcptest.Fault{Op: gcptest.OpGetLevel, Status: 500, Times: 100})
	_, err := a.Read(ctx, ref)
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "500 INTERNAL") {
		t.Fatalf("a persistent 500: %v", err)
	}
	s2 := sim(t)
	lvl := s2.Level(level)
	lvl["description"] = "team level"
	s2.SetLevel(lvl)
	b := New(client(s2), s2.URL, noSleep)
	var no *target.NotOwnedError
	if _, err := b.Read(ctx, ref); !errors.As(err, &no) {
		t.Fatalf("someone else's level: %v", err)
	}
	if err := b.Write(ctx, ref, target.Change{Set: ipset.MustParse("198.51.100.1/32")}); err == nil || s2.Calls(gcptest.OpPatchLevel) != 0 {
		t.Fatalf("wrote someone else's level: %v", err)
	}
	if _, err := b.Read(ctx, target.Ref{Resource: "accessPolicies/123456789/accessLevels/none", Sid: "x"}); !errors.As(err, &te) || !strings.Contains(te.Hint, "does not exist") {
		t.Fatalf("missing level: %v", err)
	}
}

// A wrong key is refused by the token endpoint, as Google refuses it.
func TestAWrongKeyIsRefused(t *testing.T) {
	s, other := sim(t), sim(t)
	sa := strings.Replace(string(other.ServiceAccountJSON()), other.URL, s.URL, 1)
	a := New(FromJSON(func(context.Context) ([]byte, error) { return []byte(sa), nil }), s.URL, noSleep)
	_, err := a.Read(context.Background(), target.Ref{Resource: level, Sid: "atlas-ip-sync"})
	if err == nil || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Fatalf("%v", err)
	}
}

func TestPerimetersThatListTheLevel(t *testing.T) {
	s := sim(t)
	a := New(client(s), s.URL, noSleep)
	ref := target.Ref{Resource: level, Sid: "atlas-ip-sync"}
	if got, err := a.Perimeters(context.Background(), ref); err != nil || len(got) != 0 {
		t.Fatalf("none yet: %v %v", got, err)
	}
	s.SetPerimeter("123456789", "kms", level)
	s.SetPerimeter("123456789", "other", "accessPolicies/123456789/accessLevels/else")
	if got, err := a.Perimeters(context.Background(), ref); err != nil || fmt.Sprint(got) != "[accessPolicies/123456789/servicePerimeters/kms]" {
		t.Fatalf("%v %v", got, err)
	}
}
