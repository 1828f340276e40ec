package reconcile_test

import (
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
)

// BenchmarkNoOpRun runs the whole loop against moto_server and the simulator
// with nothing to change, and reports the calls it made per run: the minimum
// is 1 control-plane GET + 1 GET per project + 1 snapshot read + 1 read per
// target, and 0 writes.
func BenchmarkNoOpRun(b *testing.B) {
	s := reconciletest.NewStack(b, reconciletest.Kinds[0], "")
	if r := s.Run(b, reconcile.Options{}); r.Err != nil {
		b.Fatal(r.Err)
	}
	s.Calls.Reset()
	s.Sim.ResetCounts()
	for b.Loop() {
		if r := s.Run(b, reconcile.Options{}); r.Status != plan.InSync || r.Err != nil {
			b.Fatalf("not a no-op: %s %v", r.Status, r.Err)
		}
	}
	n := float64(b.N)
	writes := s.Calls.Get("PutObject") + s.K.Writes(s) + s.Calls.Get("Publish")
	b.ReportMetric(float64(s.Calls.Total())/n, "aws-calls/run")
	b.ReportMetric(float64(s.Sim.Calls(atlastest.ControlPlane)+s.Sim.Calls(atlastest.GroupIPs))/n, "atlas-calls/run")
	b.ReportMetric(float64(writes)/n, "writes/run")
}
