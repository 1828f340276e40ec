package policy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
)

// hosts returns n distinct, non-adjacent IPv4 /32s (no two can merge).
func hosts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.%d/32", i/(128*256)%256, i/128%256, (i%128)*2+1)
	}
	return out
}

// capacity is the largest n whose rewritten policy the limit accepts.
func capacity(b testing.TB, base []byte, sid string, lim policy.Limit) int {
	w, err := policy.Parse(base, sid)
	if err != nil {
		b.Fatal(err)
	}
	lo, hi := 0, 1
	for {
		if _, err := policy.Render(w.Rewrite(hosts(hi)), lim); err != nil {
			break
		}
		lo, hi = hi, hi*2
	}
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if _, err := policy.Render(w.Rewrite(hosts(mid)), lim); err == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// BenchmarkPolicyCapacity: how many distinct non-adjacent /32s fit in a
// 32 KB KMS key policy that also holds infra/policies' base statements,
// against the theoretical maximum (32,768 − base bytes) / bytes per entry,
// with base and entries counted compact.
func BenchmarkPolicyCapacity(b *testing.B) {
	base, err := os.ReadFile(filepath.Join("..", "..", "infra", "policies", "kms-key-policy.json"))
	if err != nil {
		b.Fatal(err)
	}
	w, err := policy.Parse(base, "AtlasIPAllowList")
	if err != nil {
		b.Fatal(err)
	}
	empty := len(w.Rewrite(nil))
	var n int
	for b.Loop() {
		n = capacity(b, base, "AtlasIPAllowList", kmspolicy.Limit)
	}
	// Bytes per entry: the quoted value and its comma, averaged over the n
	// entries that fit.
	perEntry := float64(len(w.Rewrite(hosts(n)))-empty) / float64(n)
	theoretical := float64(kmspolicy.Limit.Max-empty) / perEntry
	b.ReportMetric(float64(n), "entries")
	b.ReportMetric(theoretical, "theoretical-entries")
	b.ReportMetric(100*float64(n)/theoretical, "%-of-theoretical")
	b.ReportMetric(float64(empty), "base-bytes")
}
