package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// TestFiftyProcesses: 50 `ipsync apply` processes race on one S3 snapshot
// while Atlas's answer changes twice. The key policy ends equal to the
// truth, is written at most once per state, and no snapshot update is lost.
func TestFiftyProcesses(t *testing.T) {
	moto := testenv.SharedMoto(t)
	proxy, err := testenv.StartFaultProxy(moto.Endpoint) // no faults: it counts
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	bin := filepath.Join(t.TempDir(), "ipsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfgAWS := moto.AWSConfig(t)
	key := testenv.CreateKey(t, cfgAWS, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	bucket := fmt.Sprintf("procs-%d", time.Now().UnixNano())
	if _, err := s3.NewFromConfig(cfgAWS, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	sim := startSim(t)
	answers := [][]string{{"3.92.113.229", "3.212.79.116"}, {"3.92.113.229", "3.212.79.116", "44.210.7.7"}, {"3.92.113.229", "3.212.79.116", "44.210.7.7", "44.210.7.9"}}
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": answers[0]}}})
	cfg := writeConfig(t, baseConfig(sim)+`snapshot:
  url: s3://`+bucket+`/ipsync/snapshot.json
targets:
  - {name: key, type: kms-key-policy, resource: `+key+`, sid: AtlasIPAllowList, sources: [control-plane-outbound]}
`)
	env := append(os.Environ(), "AWS_ENDPOINT_URL="+proxy.URL, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"ATLAS_PUBLIC_KEY=pub", "ATLAS_PRIVATE_KEY=priv-S3CRET")

	const procs = 50
	var wg sync.WaitGroup
	codes := make([]int, procs)
	outputs := make([]string, procs)
	// Atlas changes its answer while the processes run: after a third of
	// them have finished, and again after two thirds (events, not a timer,
	// so the changes land mid-storm however fast or slow the machine is).
	var mu sync.Mutex
	finished := 0
	done := func() {
		mu.Lock()
		defer mu.Unlock()
		finished++
		if finished%(procs/len(answers)) == 0 && finished/(procs/len(answers)) < len(answers) {
			a := answers[finished/(procs/len(answers))]
			sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": a}}})
		}
	}
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			cmd := exec.Command(bin, "apply", "--config", cfg)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			outputs[i] = string(out)
			if ee, ok := err.(*exec.ExitError); ok {
				codes[i] = ee.ExitCode()
			} else if err != nil {
				codes[i] = -1
			}
		}()
	}
	wg.Wait() // both changes have landed: each happened inside a finishing process's goroutine
	final := exec.Command(bin, "apply", "--config", cfg)
	final.Env = env
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("final apply: %v\n%s", err, out)
	}
	for i, c := range codes {
		if c != 0 {
			t.Errorf("process %d exited %d:\n%s", i, c, outputs[i])
		}
	}
	out, err := kms.NewFromConfig(cfgAWS).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := policy.Read([]byte(aws.ToString(out.Policy)), "AtlasIPAllowList")
	truth := ipset.MustParse(answers[len(answers)-1]...)
	if got := ipset.MustParse(c.Values...); !got.Equal(truth) {
		t.Fatalf("final policy %v, want %v", got, truth)
	}
	writes := proxy.Requests("kms", "PutKeyPolicy")
	if writes < 1 || writes > len(answers) {
		t.Fatalf("%d key policy writes for %d states of Atlas's answer", writes, len(answers))
	}
	snap, _, err := snapshotstore.NewS3Store(s3.NewFromConfig(cfgAWS, func(o *s3.Options) { o.UsePathStyle = true }), bucket, "ipsync/snapshot.json").Load(context.Background())
	if err != nil || !snap.Targets["key"].Written.Equal(truth) || snap.Lease != nil {
		t.Fatalf("snapshot record %v lease %+v (%v): an update was lost", snap.Targets["key"].Written, snap.Lease, err)
	}
	t.Logf("%d processes, %d key policy writes", procs, writes)
	if strings.Contains(strings.Join(outputs, ""), "S3CRET") {
		t.Fatal("a secret in a process's output")
	}
}
