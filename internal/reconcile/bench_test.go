package reconcile_test

import (
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

// BenchmarkNoOpRun runs the whole loop against moto_server and the simulator
// with nothing to change, and reports the calls it made per run: the minimum
// is 1 control-plane GET + 1 GET per project + 1 snapshot read + 1 read per
// target, and 0 writes.
func BenchmarkNoOpRun(b *testing.B) {
	s := newStack(b, kinds[0], "")
	if r := s.run(b, reconcile.Options{}); r.Err != nil {
		b.Fatal(r.Err)
	}
	s.calls.Reset()
	s.sim.ResetCounts()
	for b.Loop() {
		if r := s.run(b, reconcile.Options{}); r.Status != plan.InSync || r.Err != nil {
			b.Fatalf("not a no-op: %s %v", r.Status, r.Err)
		}
	}
	n := float64(b.N)
	writes := s.calls.Get("PutObject") + s.k.writes(s) + s.calls.Get("Publish")
	b.ReportMetric(float64(s.calls.Total())/n, "aws-calls/run")
	b.ReportMetric(float64(s.sim.Calls(atlastest.ControlPlane)+s.sim.Calls(atlastest.GroupIPs))/n, "atlas-calls/run")
	b.ReportMetric(float64(writes)/n, "writes/run")
}
