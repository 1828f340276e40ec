package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
)

// Atlas loses the key right after apply's change: apply rolls it back and
// exits 1; plan shows the target blocked; unblock clears it once; the next
// apply changes it again.
func TestRollbackThenUnblock(t *testing.T) {
	sim, cfg := planStack(t)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	extra := "    encryptionAtRestProjects: [\"" + project + "\"]\nverify:\n  window: 0s\n"
	if err := os.WriteFile(cfg, append(b, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	sim.SetEncryptionAtRestValidAfter(project, false, 1) // valid before the change, invalid after

	r := ipsync(t, keyEnv, "apply", "--config", cfg)
	if r.code != exitError || !strings.Contains(r.stdout, "[rolled-back]") || !strings.Contains(r.stdout, "1 rolled back") {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sim.SetEncryptionAtRestValid(project, true)
	r = ipsync(t, keyEnv, "plan", "--config", cfg)
	if r.code != exitError || !strings.Contains(r.stdout, "[blocked]") || !strings.Contains(r.stdout, "ipsync unblock atlas-ear-key") {
		t.Fatalf("plan while blocked: exit %d\n%s", r.code, r.stdout)
	}

	for _, bad := range [][]string{{"unblock", "--config", cfg}, {"unblock", "--config", cfg, "a", "b"}, {"unblock", "--config", cfg, "other"}} {
		if r := ipsync(t, keyEnv, bad...); r.code != exitError || r.stdout != "" {
			t.Fatalf("%v: exit %d, %q, %s", bad, r.code, r.stdout, r.stderr)
		}
	}
	r = ipsync(t, keyEnv, "unblock", "atlas-ear-key", "--config", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, "Unblocked atlas-ear-key") || !strings.Contains(r.stdout, "+3.92.113.229/32") {
		t.Fatalf("unblock: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := ipsync(t, keyEnv, "unblock", "--config", cfg, "atlas-ear-key"); r.code != exitError || !strings.Contains(r.stderr, "is not blocked") {
		t.Fatalf("second unblock: exit %d %s", r.code, r.stderr)
	}
	if r := ipsync(t, keyEnv, "apply", "--config", cfg); r.code != exitOK || !strings.Contains(r.stdout, "[applied]") {
		t.Fatalf("apply after unblock: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// Unblocking a target whose rollback a run decided but never finished says
// so: no run restores the policy after that.
func TestUnblockAPendingRollbackWarns(t *testing.T) {
	_, cfg := planStack(t)
	if r := ipsync(t, keyEnv, "apply", "--config", cfg); r.code != exitOK {
		t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "url: file://")
	path, _, _ := strings.Cut(rest, "\n")
	store := snapshotstore.NewFileStore(path)
	snap, version, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	snap.Blocked = map[string]snapshot.Block{"atlas-ear-key": {Reason: "Atlas reported encryption at rest invalid for [p] after this change, which is rolled back",
		Add: ipset.MustParse("3.92.113.229"), Pending: true, Restore: ipset.MustParse("192.0.2.0")}}
	if _, err := store.Save(context.Background(), snap, version); err != nil {
		t.Fatal(err)
	}
	r := ipsync(t, keyEnv, "unblock", "atlas-ear-key", "--config", cfg)
	if r.code != exitOK || !strings.Contains(r.stdout, "no run restores [192.0.2.0/32] now") {
		t.Fatalf("unblock: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
