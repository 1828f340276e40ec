package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// BenchmarkScale: `ipsync plan` (a real process) over 1,000 projects and 100
// KMS targets, the simulator adding 50 ms to every call. It reports the wall
// time at concurrency 1 (the serial baseline), 8 and 16 (the default), the
// speed-ups, the process's peak RSS, the Atlas calls per run, and a run
// through a 429 storm within the retry budget (48 project calls answered
// 429 with Retry-After: 1, three for each of the 16 workers).
func BenchmarkScale(b *testing.B) {
	const projects, targets = 1000, 100
	moto := testenv.SharedMoto(b)
	sim := atlastest.New()
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	sim.AddAPIKey("pub", "priv")
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116"}}}})
	ids := make([]string, projects)
	for i := range ids {
		ids[i] = fmt.Sprintf("%024x", i+1)
		sim.SetProject(ids[i], atlastest.Cluster{ClusterName: "c", Outbound: []string{fmt.Sprintf("44.%d.%d.1", i/250, i%250)}})
	}
	cfgAWS := moto.AWSConfig(b)
	var tg strings.Builder
	for i := range targets {
		key := testenv.CreateKey(b, cfgAWS, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
		fmt.Fprintf(&tg, "  - {name: k%d, type: kms-key-policy, resource: %s, sid: AtlasIPAllowList, sources: [control-plane-outbound]}\n", i, key)
	}
	bin := filepath.Join(b.TempDir(), "ipsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	dir := b.TempDir()
	config := func(concurrency int) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", concurrency))
		doc := fmt.Sprintf("atlas:\n  baseURL: %s\n  concurrency: %d\n  projects: [%s]\nsnapshot:\n  url: file://%s\ntargets:\n%s",
			sim.URL(), concurrency, `"`+strings.Join(ids, `","`)+`"`, filepath.Join(dir, "s.json"), tg.String())
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			b.Fatal(err)
		}
		return p
	}
	env := append(os.Environ(), "AWS_ENDPOINT_URL="+moto.Endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "ATLAS_PUBLIC_KEY=pub", "ATLAS_PRIVATE_KEY=priv")
	run := func(concurrency int) (time.Duration, int64) {
		cmd := exec.Command(bin, "plan", "--config", config(concurrency))
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(start)
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != exitChanges) {
			b.Fatalf("plan (concurrency %d): %v\n%s", concurrency, err, out)
		}
		return wall, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	}
	sim.SetLatency(50 * time.Millisecond)
	var serial, def, half, storm time.Duration
	var rss int64
	var calls int
	for b.Loop() {
		sim.ResetCounts()
		def, rss = run(16)
		calls = sim.Calls(atlastest.ControlPlane) + sim.Calls(atlastest.GroupIPs)
		half, _ = run(8)
		serial, _ = run(1)
		// Three rounds of 429 for each of the 16 workers: within the 5-attempt budget.
		sim.InjectFault(atlastest.GroupIPs, atlastest.Fault{Status: 429, RetryAfter: "1"}, 48)
		storm, _ = run(16)
	}
	b.ReportMetric(serial.Seconds(), "serial-s")
	b.ReportMetric(def.Seconds(), "default16-s")
	b.ReportMetric(half.Seconds(), "concurrency8-s")
	b.ReportMetric(serial.Seconds()/def.Seconds(), "speedup-default")
	b.ReportMetric(serial.Seconds()/half.Seconds(), "speedup-8")
	b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
	b.ReportMetric(float64(calls), "atlas-calls/run")
	b.ReportMetric(storm.Seconds(), "429-storm-s")
}
