package snapshot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestHashCoversAddressesOnly(t *testing.T) {
	t1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	a := testenv.SampleSnapshot(t1, "192.0.2.1", "192.0.2.2")
	b := testenv.SampleSnapshot(t1.Add(time.Hour), "192.0.2.2/32", "192.0.2.1")
	if a.Hash != b.Hash {
		t.Fatalf("same addresses, different hash: %s vs %s", a.Hash, b.Hash)
	}
	c := testenv.SampleSnapshot(t1, "192.0.2.1", "192.0.2.3")
	if a.Hash == c.Hash {
		t.Fatal("different addresses, same hash")
	}
	if !strings.HasPrefix(a.Hash, "sha256:") || len(a.Hash) != 7+64 {
		t.Fatalf("hash %q", a.Hash)
	}
}

func TestUnmarshalIsStrict(t *testing.T) {
	good, err := testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.1").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := snapshot.Unmarshal(good)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash != testenv.SampleSnapshot(time.Now(), "192.0.2.1").Hash {
		t.Fatal("round trip changed the hash")
	}
	tests := []struct{ name, from, to, wantErr string }{
		{"edited address", `"192.0.2.1/32"`, `"192.0.2.9/32"`, "does not match"},
		{"bad address", `"192.0.2.1/32"`, `"192.0.2.300/32"`, "not an IP"},
		{"unknown field", `"schemaVersion": 2,`, `"schemaVersion": 2, "extra": true,`, "unknown field"},
		{"newer schema", `"schemaVersion": 2,`, `"schemaVersion": 3,`, "schema version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(string(good), tt.from, tt.to, 1)
			if bad == string(good) {
				t.Fatalf("fixture edit %q did not apply", tt.from)
			}
			if _, err := snapshot.Unmarshal([]byte(bad)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestSchemaVersion1AlertsAreMigrated(t *testing.T) {
	s := testenv.SampleSnapshot(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "192.0.2.1")
	s.Alerts = map[string]string{"run": "failed", "key": "refused"}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	v1 := strings.Replace(string(b), `"schemaVersion": 2,`, `"schemaVersion": 1,`, 1)
	got, err := snapshot.Unmarshal([]byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if got.RunAlert != "failed" || len(got.Alerts) != 1 || got.Alerts["key"] != "refused" || got.SchemaVersion != 2 {
		t.Fatalf("migrated: run %q, alerts %v, version %d", got.RunAlert, got.Alerts, got.SchemaVersion)
	}
	// Version 2 keeps a target named run as a target.
	again, err := snapshot.Unmarshal(b)
	if err != nil || again.RunAlert != "" || again.Alerts["run"] != "failed" {
		t.Fatalf("version 2: run %q, alerts %v, %v", again.RunAlert, again.Alerts, err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	good, _ := testenv.SampleSnapshot(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "192.0.2.1").Marshal()
	f.Add(good)
	f.Add([]byte(`{"schemaVersion":2}`))
	f.Add([]byte(`{"schemaVersion":1,"hash":"","controlPlane":{"inbound":null,"outbound":null},"projects":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := snapshot.Unmarshal(b)
		if err != nil {
			return
		}
		// Anything accepted carries a hash that matches its addresses, and
		// survives a round trip unchanged.
		if s.Hash != s.ContentHash() {
			t.Fatalf("accepted a snapshot whose hash does not match")
		}
		again, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := snapshot.Unmarshal(again)
		if err != nil || back.Hash != s.Hash {
			t.Fatalf("round trip: %v", err)
		}
	})
}
