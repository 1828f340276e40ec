package faults_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/atlasconn"
)

// The fault matrix: one row per fault, each asserting its outcome, collected
// for docs/RELIABILITY.md (written when IPSYNC_WRITE_RELIABILITY=1).
type matrixRow struct {
	Target, Fault, Outcome string
	Runs, UnexpectedWrites int
}

var matrix struct {
	sync.Mutex
	rows []matrixRow
}

func record(row matrixRow) {
	matrix.Lock()
	matrix.rows = append(matrix.rows, row)
	matrix.Unlock()
}

const (
	retried       = "retried, then succeeded"
	failedRun     = "failed before any write: nothing written, Atlas's record in the snapshot kept"
	failedTarget  = "failed: the target not written, its record kept so the next run retries it; the run reports failure"
	partial       = "partial: the failing step reported, the rest done; the next run converges"
	madeNotBroken = "failed after the additions (make-before-break): the new rules allow, the old stay until the next run; the target's record not written"
)

func TestAWSFaultMatrix(t *testing.T) {
	kmsKind, vpceKind, iamKind := reconciletest.Kinds[0], reconciletest.Kinds[1], reconciletest.Kinds[2]
	sgKind, plKind, wafKind := reconciletest.SecurityGroupKind, reconciletest.PrefixListKind, reconciletest.IPSetKind
	rows := []struct {
		k       reconciletest.Kind
		fault   testenv.AWSFault
		outcome string
		// warm applies once before the fault, so the fault hits a steady state
		// with a recorded snapshot; Atlas then changes so there is work to do.
		warm bool
	}{
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "GetKeyPolicy", Status: 400, Code: "ThrottlingException", Times: 1}, retried, false},
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "GetKeyPolicy", Status: 500, Code: "KMSInternalException", Times: 100}, failedTarget, true},
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "GetKeyPolicy", Delay: time.Minute, Times: 100}, failedTarget, true},
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "PutKeyPolicy", Status: 400, Code: "ThrottlingException", Times: 1}, retried, false},
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "PutKeyPolicy", Status: 500, Code: "DependencyTimeoutException", Times: 1}, retried, false},
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "PutKeyPolicy", Status: 500, Code: "KMSInternalException", Times: 100}, failedTarget, true},
		{vpceKind, testenv.AWSFault{Service: "ec2", Op: "DescribeVpcEndpoints", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{vpceKind, testenv.AWSFault{Service: "ec2", Op: "ModifyVpcEndpoint", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{vpceKind, testenv.AWSFault{Service: "ec2", Op: "ModifyVpcEndpoint", Status: 500, Code: "InternalError", Times: 100}, failedTarget, true},
		{kmsKind, testenv.AWSFault{Service: "s3", Op: "GetObject", Status: 503, Code: "SlowDown", Times: 1}, retried, true},
		{kmsKind, testenv.AWSFault{Service: "s3", Op: "GetObject", Status: 500, Code: "InternalError", Times: 100}, failedRun, true},
		{kmsKind, testenv.AWSFault{Service: "s3", Op: "PutObject", Status: 503, Code: "SlowDown", Times: 1}, retried, true},
		{kmsKind, testenv.AWSFault{Service: "s3", Op: "PutObject", Status: 500, Code: "InternalError", Times: 100}, failedRun, true},
		{kmsKind, testenv.AWSFault{Service: "sns", Op: "Publish", Status: 400, Code: "Throttling", Times: 1}, retried, true},
		{kmsKind, testenv.AWSFault{Service: "sns", Op: "Publish", Status: 500, Code: "InternalError", Times: 100}, partial, true},
		{kmsKind, testenv.AWSFault{Service: "sns", Op: "Publish", Delay: time.Minute, Times: 100}, partial, true},
		{kmsKind, testenv.AWSFault{Service: "s3", Op: "GetObject", Delay: time.Minute, Times: 100}, failedRun, true},
		{kmsKind, testenv.AWSFault{Service: "s3", Op: "PutObject", Delay: time.Minute, Times: 100}, failedRun, true},
		{kmsKind, testenv.AWSFault{Service: "kms", Op: "PutKeyPolicy", Delay: time.Minute, Times: 100}, failedTarget, true},
		{vpceKind, testenv.AWSFault{Service: "ec2", Op: "DescribeVpcEndpoints", Delay: time.Minute, Times: 100}, failedTarget, true},
		{vpceKind, testenv.AWSFault{Service: "ec2", Op: "ModifyVpcEndpoint", Delay: time.Minute, Times: 100}, failedTarget, true},
		{iamKind, testenv.AWSFault{Service: "iam", Op: "GetRolePolicy", Status: 400, Code: "Throttling", Times: 1}, retried, false},
		{iamKind, testenv.AWSFault{Service: "iam", Op: "ListRolePolicies", Status: 400, Code: "Throttling", Times: 1}, retried, false},
		{iamKind, testenv.AWSFault{Service: "iam", Op: "PutRolePolicy", Status: 500, Code: "ServiceFailure", Times: 100}, failedTarget, true},
		{iamKind, testenv.AWSFault{Service: "iam", Op: "ListRolePolicies", Status: 500, Code: "ServiceFailure", Times: 100}, failedTarget, true},
		{iamKind, testenv.AWSFault{Service: "iam", Op: "PutRolePolicy", Delay: time.Minute, Times: 100}, failedTarget, true},
		{sgKind, testenv.AWSFault{Service: "ec2", Op: "DescribeSecurityGroupRules", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{sgKind, testenv.AWSFault{Service: "ec2", Op: "DescribeSecurityGroupRules", Delay: time.Minute, Times: 100}, failedTarget, true},
		{sgKind, testenv.AWSFault{Service: "ec2", Op: "AuthorizeSecurityGroupEgress", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{sgKind, testenv.AWSFault{Service: "ec2", Op: "AuthorizeSecurityGroupEgress", Status: 500, Code: "InternalError", Times: 100}, failedTarget, true},
		{sgKind, testenv.AWSFault{Service: "ec2", Op: "RevokeSecurityGroupEgress", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{sgKind, testenv.AWSFault{Service: "ec2", Op: "RevokeSecurityGroupEgress", Status: 500, Code: "InternalError", Times: 100}, madeNotBroken, false},
		{plKind, testenv.AWSFault{Service: "ec2", Op: "DescribeManagedPrefixLists", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{plKind, testenv.AWSFault{Service: "ec2", Op: "GetManagedPrefixListEntries", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{plKind, testenv.AWSFault{Service: "ec2", Op: "GetManagedPrefixListEntries", Status: 500, Code: "InternalError", Times: 100}, failedTarget, true},
		{plKind, testenv.AWSFault{Service: "ec2", Op: "ModifyManagedPrefixList", Status: 503, Code: "RequestLimitExceeded", Times: 1}, retried, false},
		{plKind, testenv.AWSFault{Service: "ec2", Op: "ModifyManagedPrefixList", Status: 500, Code: "InternalError", Times: 100}, failedTarget, true},
		{plKind, testenv.AWSFault{Service: "ec2", Op: "ModifyManagedPrefixList", Delay: time.Minute, Times: 100}, failedTarget, true},
		{wafKind, testenv.AWSFault{Service: "wafv2", Op: "GetIPSet", Status: 500, Code: "WAFInternalErrorException", Times: 1}, retried, false},
		{wafKind, testenv.AWSFault{Service: "wafv2", Op: "GetIPSet", Delay: time.Minute, Times: 100}, failedTarget, true},
		{wafKind, testenv.AWSFault{Service: "wafv2", Op: "UpdateIPSet", Status: 500, Code: "WAFInternalErrorException", Times: 1}, retried, false},
		{wafKind, testenv.AWSFault{Service: "wafv2", Op: "UpdateIPSet", Status: 500, Code: "WAFInternalErrorException", Times: 100}, failedTarget, true},
	}
	for _, row := range rows {
		name := fmt.Sprintf("%s %s %d %s", row.fault.Service, row.fault.Op, row.fault.Status, row.fault.Code)
		if row.fault.Delay > 0 {
			name = fmt.Sprintf("%s %s timeout", row.fault.Service, row.fault.Op)
		}
		t.Run(name, func(t *testing.T) {
			// Each row has its own stack and proxy; most of a row is waiting
			// (a timeout, a retry's backoff), so rows share the cores.
			t.Parallel()
			s, proxy := reconciletest.FaultStack(t, row.k, "")
			// The SDK's retries wait 10 ms here (reconciletest.StartProxy), so
			// a second bounds every call of a row, and ends the hangs (the
			// proxy holds a hung call for a minute, until the client gives up).
			o := reconcile.Options{VerifyWait: 10 * time.Millisecond, CallTimeout: time.Second}
			runs := 0
			if row.warm {
				if r := s.Run(t, o); r.Err != nil {
					t.Fatal(r.Err)
				}
				runs++
				s.Alerts(t)
				s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"))
			}
			store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
			before, beforeVersion, _ := store.Load(context.Background())
			liveBefore := row.k.GetLive(t, s)
			s.Calls.Reset()
			proxy.Inject(row.fault)
			r := s.Run(t, o)
			runs++
			after, afterVersion, _ := store.Load(context.Background())
			liveAfter := row.k.GetLive(t, s)
			unexpected := 0
			switch row.outcome {
			case retried:
				if r.Err != nil || (r.Status != plan.Applied && r.Status != plan.InSync) {
					t.Fatalf("status %s, err %v, targets %+v", r.Status, r.Err, reasons(r))
				}
				if n := proxy.Requests(row.fault.Service, row.fault.Op); n < 2 {
					t.Fatalf("%s reached the proxy %d time(s): no retry happened", row.fault.Op, n)
				}
				if !strings.Contains(liveAfter, "44.210.7.7") && row.warm {
					t.Fatal("the change was not applied after the retry")
				}
			case failedRun, failedTarget:
				if r.Status != plan.Error {
					t.Fatalf("status %s, want error (%v)", r.Status, r.Err)
				}
				// Nothing written that should not be: the policy is what it was
				// (a failed write never took), and the target's record did not
				// advance, so the next run retries it.
				if liveAfter != liveBefore {
					unexpected++
					t.Errorf("the policy changed on a failed run")
				}
				if after == nil || after.Targets["target"].Written.String() != before.Targets["target"].Written.String() {
					unexpected++
					t.Errorf("the target's record advanced on a failed run")
				}
				if row.outcome == failedRun && after.Hash != before.Hash {
					unexpected++
					t.Errorf("Atlas's record advanced on a run that failed before any write")
				}
				_ = beforeVersion
			case madeNotBroken:
				// The first run: the additions were authorized, the old
				// rule's revoke failed. The fence allows both; nothing of
				// the target was recorded, so the next run finishes it.
				if r.Status != plan.Error {
					t.Fatalf("status %s, want error (%v)", r.Status, r.Err)
				}
				if !strings.Contains(liveAfter, "34.193.91.42/32") || !strings.Contains(liveAfter, "192.0.2.0/32") {
					unexpected++
					t.Errorf("want the additions and the old rule both, got:\n%s", liveAfter)
				}
				if after != nil {
					if _, ok := after.Targets["target"]; ok {
						unexpected++
						t.Errorf("the target's record was written on a failed run")
					}
				}
			case partial:
				if r.Status != plan.Error && r.Err == nil {
					t.Fatalf("status %s, err %v: the failure was not reported", r.Status, r.Err)
				}
				if !strings.Contains(liveAfter, "44.210.7.7") {
					t.Fatal("the policy was not applied")
				}
			}
			// With the fault gone, the next run converges with no more writes
			// than the one real change still pending.
			proxy.Clear()
			s.Calls.Reset()
			next := s.Run(t, o)
			runs++
			if next.Err != nil || (next.Status != plan.InSync && next.Status != plan.Applied) {
				t.Fatalf("the next run: %s %v", next.Status, next.Err)
			}
			final := s.Run(t, reconcile.Options{DryRun: true})
			if final.Status != plan.InSync || !strings.Contains(row.k.Live(t, s), "44.210.7.7") && row.warm {
				t.Fatalf("not converged: %s", final.Status)
			}
			if latest, v, err := store.Load(context.Background()); err != nil || latest.Targets["target"].Written.IsEmpty() {
				t.Fatalf("snapshot after convergence: %v %v", v, err)
			}
			_ = afterVersion
			record(matrixRow{Target: string(row.k.Name), Fault: name, Outcome: row.outcome, Runs: runs + 1, UnexpectedWrites: unexpected})
		})
	}
}

func reasons(r reconcile.Report) []string {
	var out []string
	for _, t := range r.Targets {
		out = append(out, string(t.Status)+": "+t.Reason)
	}
	return out
}

func TestSQSFaultGives503(t *testing.T) {
	proxy, awsCfg := reconciletest.StartProxy(t)
	q := sqs.NewFromConfig(awsCfg)
	out, err := q.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(reconciletest.Uniq("t") + ".fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	queue := webhook.NewSQSQueue(q, aws.ToString(out.QueueUrl))
	// A hang is ended by the queue's bound (EnqueueTimeout, 5 s in the
	// function), here a second: the row tests that the bound ends it.
	queue.Timeout = time.Second
	h := &webhook.Handler{Secrets: staticSecrets{[]byte("s")}, Queue: queue}
	body := []byte(`{"id":"a","status":"OPEN"}`)
	req := webhook.Request{Method: "POST", Signature: signBody("s", body), Body: body}
	proxy.Inject(testenv.AWSFault{Service: "sqs", Op: "SendMessage", Status: 500, Code: "InternalError", Times: 100})
	if r := h.Handle(context.Background(), req); r.Status != 503 {
		t.Fatalf("queue failing: %d, want 503", r.Status)
	}
	proxy.Clear()
	proxy.Inject(testenv.AWSFault{Service: "sqs", Op: "SendMessage", Status: 400, Code: "ThrottlingException", Times: 1})
	if r := h.Handle(context.Background(), req); r.Status != 202 {
		t.Fatalf("queue throttled once: %d, want 202", r.Status)
	}
	record(matrixRow{Target: "webhook", Fault: "sqs SendMessage 500 InternalError", Outcome: "503 to Atlas (it retries); nothing enqueued", Runs: 1})
	proxy.Clear()
	proxy.Inject(testenv.AWSFault{Service: "sqs", Op: "SendMessage", Delay: time.Minute, Times: 100})
	if r := h.Handle(context.Background(), req); r.Status != 503 {
		t.Fatalf("queue hanging: %d, want 503 once the enqueue bound ends the call", r.Status)
	}
	record(matrixRow{Target: "webhook", Fault: "sqs SendMessage timeout", Outcome: "503 to Atlas within 5 s (it retries); nothing enqueued", Runs: 1})
	record(matrixRow{Target: "webhook", Fault: "sqs SendMessage 400 ThrottlingException", Outcome: retried + " (202)", Runs: 1})
}

// TestAtlasFaultsAtRunLevel: what Atlas's faults do to a whole run (the
// client's own behaviour is tested fault by fault in internal/atlas).
func TestAtlasFaultsAtRunLevel(t *testing.T) {
	rows := []struct {
		name    string
		ep      atlastest.Endpoint
		fault   atlastest.Fault
		times   int
		outcome string
	}{
		{"atlas groupIPs 429 Retry-After: 1", atlastest.GroupIPs, atlastest.Fault{Status: 429, RetryAfter: "1"}, 1, retried},
		{"atlas controlPlane 503", atlastest.ControlPlane, atlastest.Fault{Status: 503}, 1, retried},
		{"atlas controlPlane connection reset", atlastest.ControlPlane, atlastest.Fault{Reset: true}, 1, retried},
		{"atlas groupIPs truncated body", atlastest.GroupIPs, atlastest.Fault{Truncate: true}, 1, retried},
		{"atlas groupIPs 500 until the retry budget ends", atlastest.GroupIPs, atlastest.Fault{Status: 500}, 100, failedRun},
		{"atlas controlPlane invalid CIDR", atlastest.ControlPlane, atlastest.Fault{InvalidCIDR: true}, 1, failedRun},
		{"atlas groupIPs 404 (project gone)", atlastest.GroupIPs, atlastest.Fault{Status: 404}, 100, failedRun},
		{"atlas controlPlane empty lists", atlastest.ControlPlane, atlastest.Fault{Body: `{"inbound":{},"outbound":{}}`}, 100, "refused by minAddresses: nothing written, exit 3, one refused alert"},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			k := reconciletest.Kinds[0]
			s := reconciletest.NewStack(t, k, "")
			if r := s.Run(t, reconcile.Options{}); r.Err != nil {
				t.Fatal(r.Err)
			}
			s.Alerts(t)
			s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"))
			store := snapshotstore.NewS3Store(reconciletest.S3Client(s), s.Bucket, "ipsync/snapshot.json")
			before, _, _ := store.Load(context.Background())
			liveBefore := k.GetLive(t, s)
			s.Sim.InjectFault(row.ep, row.fault, row.times)
			r := s.Run(t, reconcile.Options{})
			after, _, _ := store.Load(context.Background())
			unexpected := 0
			switch row.outcome {
			case retried:
				if r.Err != nil || !strings.Contains(k.GetLive(t, s), "44.210.7.7") {
					t.Fatalf("status %s err %v", r.Status, r.Err)
				}
			default:
				if r.Status != plan.Error && r.Status != plan.Refused {
					t.Fatalf("status %s, want error or refused", r.Status)
				}
				if k.GetLive(t, s) != liveBefore {
					unexpected++
					t.Error("the policy changed")
				}
				if after.Hash != before.Hash || !after.Targets["target"].Written.Equal(before.Targets["target"].Written) {
					unexpected++
					t.Error("Atlas's record advanced")
				}
			}
			s.Sim.ClearFaults()
			if next := s.Run(t, reconcile.Options{}); next.Err != nil {
				t.Fatalf("next run: %v", next.Err)
			}
			if dry := s.Run(t, reconcile.Options{DryRun: true}); dry.Status != plan.InSync {
				t.Fatalf("not converged: %s", dry.Status)
			}
			record(matrixRow{Target: "atlas (simulator)", Fault: row.name, Outcome: row.outcome, Runs: 4, UnexpectedWrites: unexpected})
		})
	}
}

func TestSecretsManagerFaults(t *testing.T) {
	proxy, awsCfg := reconciletest.StartProxy(t)
	name := reconciletest.Uniq("atlas")
	if _, err := secretsmanager.NewFromConfig(awsCfg).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: aws.String(`{"publicKey":"p","privateKey":"k"}`)}); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse([]byte(`{"atlas":{"credentials":{"secretId":"` + name + `"},"projects":["5aec7afbf7d068e35a39809b"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(string) string { return "" }
	proxy.Inject(testenv.AWSFault{Service: "secretsmanager", Op: "GetSecretValue", Status: 400, Code: "ThrottlingException", Times: 1})
	if creds, err := atlasconn.Credentials(context.Background(), c, awsCfg, getenv); err != nil || creds.PublicKey != "p" {
		t.Fatalf("throttled once: %v", err)
	}
	record(matrixRow{Target: "atlas credentials", Fault: "secretsmanager GetSecretValue 400 ThrottlingException", Outcome: retried, Runs: 1})
	proxy.Inject(testenv.AWSFault{Service: "secretsmanager", Op: "GetSecretValue", Status: 500, Code: "InternalServiceError", Times: 100})
	if _, err := atlasconn.Credentials(context.Background(), c, awsCfg, getenv); err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("failing: %v", err)
	}
	// The run cannot build its Atlas client, so it makes no other call at all.
	record(matrixRow{Target: "atlas credentials", Fault: "secretsmanager GetSecretValue 500 InternalServiceError", Outcome: "failed before any call: the error names the secret; nothing read or written", Runs: 1})
	proxy.Clear()
	// A hang ends with the run's time (here a second; atlasconn bounds the read
	// at 30 s of its own, tested there without waiting 30 s).
	proxy.Inject(testenv.AWSFault{Service: "secretsmanager", Op: "GetSecretValue", Delay: 40 * time.Second, Times: 100})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := atlasconn.Credentials(ctx, c, awsCfg, getenv); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), name) {
		t.Fatalf("hanging: %v", err)
	}
	record(matrixRow{Target: "atlas credentials", Fault: "secretsmanager GetSecretValue timeout", Outcome: "failed before any call when the run's time is up (at most 30 s): nothing read or written", Runs: 1})
}

// TestZWriteReliabilityDoc writes the matrix. Go runs a package's tests in
// file order, then in source order: every test that records a row
// (faults_reach_test.go, and this file's above) has run before it.
func TestZWriteReliabilityDoc(t *testing.T) {
	if os.Getenv("IPSYNC_WRITE_RELIABILITY") != "1" {
		t.Skip("set IPSYNC_WRITE_RELIABILITY=1 (make reliability) to write docs/RELIABILITY.md")
	}
	matrix.Lock()
	defer matrix.Unlock()
	if len(matrix.rows) < 35 {
		t.Fatalf("only %d matrix rows ran; run the whole package", len(matrix.rows))
	}
	sort.SliceStable(matrix.rows, func(i, j int) bool { return matrix.rows[i].Target < matrix.rows[j].Target })
	var b strings.Builder
	runs, unexpected := 0, 0
	for _, r := range matrix.rows {
		runs += r.Runs
		unexpected += r.UnexpectedWrites
	}
	fmt.Fprintf(&b, "# Reliability\n\nGenerated by `make reliability` (`IPSYNC_WRITE_RELIABILITY=1 go test -count=1 -run 'FaultMatrix|SQSFault|SecretsManagerFaults|AtlasFaultsAtRunLevel|AssumeRoleFaults|AccessListFaults|ZWrite' ./internal/reconcile/faults/`) on %s.\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Each row is one test: the fault is injected on the wire by an HTTP proxy in front of moto_server that answers in the service's own error shape (`internal/testenv/faultproxy.go`); the SDK's retries and error decoding run for real. After each fault the test runs again without it and checks the run converges.\n\n")
	fmt.Fprintf(&b, "| target | fault | outcome | runs | writes that should not have happened |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range matrix.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d |\n", r.Target, r.Fault, r.Outcome, r.Runs, r.UnexpectedWrites)
	}
	fmt.Fprintf(&b, "\nTotals: %d faults injected, %d runs, %d writes that should not have happened.\n\n", len(matrix.rows), runs, unexpected)
	b.WriteString("The Atlas rows run a whole reconcile against the simulator. The client's own behaviour under each Atlas fault (429 with and without Retry-After, 5xx, timeouts, resets, truncated bodies, invalid CIDRs, empty lists, a project 404, the token endpoint down) is one test each in `internal/atlas/client_test.go` (`TestFaults`, `TestAuthErrors`, `TestServiceAccount`).\n\n")
	b.WriteString("Crash consistency: `TestCrashAtEveryStep` stops a run at every step boundary (after fetch, after the target write, before and after the snapshot write, before notify) for each target kind (KMS key policy, VPC endpoint policy, IAM role policy, security group, prefix list, WAF IP set); the next run converges, removes nothing early and announces the change exactly once.\n\nConcurrency: 50 goroutines (`TestFiftyConcurrentRuns`) and 50 `ipsync apply` processes (`TestFiftyProcesses`) race on one snapshot while Atlas changes: the policy ends at the truth, no update is lost.\n\nVulnerabilities: `make test` runs `go mod verify` and govulncheck (`infra/vuln.sh`), against https://vuln.go.dev where it answers and otherwise against the offline database in `testdata/vulndb` (golang/vulndb a752ea54, 2026-08-21), and says which it used.\n")
	// What was measured by hand (the suite under load) is kept beside the
	// generator and copied in, as BENCHMARKS.md does with its history.
	if extra, err := os.ReadFile(filepath.Join("..", "..", "..", "infra", "reliability-load.md")); err == nil {
		b.WriteString("\n")
		b.Write(extra)
	} else {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "..", "docs", "RELIABILITY.md"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// staticSecrets are the webhook's secrets, fixed.
type staticSecrets [][]byte

func (s staticSecrets) Secrets(context.Context, bool) ([][]byte, error) { return s, nil }

// signBody is X-MMS-Signature of body.
func signBody(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
