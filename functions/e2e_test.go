// Package functions_test builds each function's bootstrap with the release
// flags and drives it through a Lambda Runtime API on loopback, against
// moto_server and the Atlas simulator, asserting the effects.
package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// build compiles a function with the release flags, for this machine's
// architecture (the tests run the binary here).
func build(t testing.TB, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, "./"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

// start runs a bootstrap against a fresh Runtime API.
func start(t testing.TB, bin string, env []string) (*testenv.RuntimeAPI, *lockedBuffer) {
	t.Helper()
	rt, err := testenv.StartRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+rt.Addr, "PATH="+os.Getenv("PATH"))
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	cmd.Stdout = logs // as in Lambda: both reach the log group; EMF lines are on stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return rt, logs
}

// lockedBuffer collects a process's output while the test reads it. The
// output reaches it through a pipe that exec copies on its own goroutine,
// so a line the process wrote before answering may arrive after the
// answer: waitFor waits for it, woken by each write.
type lockedBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	written chan struct{} // closed and replaced on each write
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written != nil {
		close(l.written)
		l.written = nil
	}
	return l.b.Write(p)
}

// waitFor returns once ok holds for the output, or when ctx ends.
func (l *lockedBuffer) waitFor(ctx context.Context, ok func(string) bool) error {
	for {
		l.mu.Lock()
		out := l.b.String()
		if l.written == nil {
			l.written = make(chan struct{})
		}
		wake := l.written
		l.mu.Unlock()
		if ok(out) {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFunctionsEndToEnd(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	ctx := context.Background()
	reconcileBin, webhookBin := build(t, "reconcile"), build(t, "webhook")

	sim := atlastest.New()
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.AddAPIKey("pub", "priv-S3CRET")
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116"}}}})
	project := "5aec7afbf7d068e35a39809b"
	sim.SetProject(project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})

	suffix := fmt.Sprint(time.Now().UnixNano())
	key := testenv.CreateKey(t, cfg, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	bucket := "e2e-" + suffix
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	sq := sqs.NewFromConfig(cfg)
	trig, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("triggers-" + suffix + ".fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	oncall, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("oncall-" + suffix)})
	if err != nil {
		t.Fatal(err)
	}
	oncallAttrs, _ := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: oncall.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts-" + suffix)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(oncallAttrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	webhookSecret, err := os.ReadFile("../events/webhook-secret.txt")
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"atlas-" + suffix:   `{"publicKey":"pub","privateKey":"priv-S3CRET"}`,
		"webhook-" + suffix: string(webhookSecret),
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	config := map[string]any{
		"atlas":    map[string]any{"baseURL": sim.URL(), "credentials": map[string]any{"secretId": "atlas-" + suffix}, "projects": []string{project}},
		"snapshot": map[string]any{"url": "s3://" + bucket + "/ipsync/snapshot.json"},
		"notify":   map[string]any{"topicArn": aws.ToString(topic.TopicArn)},
		"trigger":  map[string]any{"queueUrl": aws.ToString(trig.QueueUrl)},
		"webhook":  map[string]any{"secretId": "webhook-" + suffix},
		"targets":  []any{map[string]any{"name": "atlas-ear-key", "type": "kms-key-policy", "resource": key, "sid": "AtlasIPAllowList", "sources": []string{"control-plane-outbound", "nodes-outbound"}}},
	}
	cfgJSON, _ := json.Marshal(config)
	env := []string{"IPSYNC_CONFIG=" + string(cfgJSON), "AWS_ENDPOINT_URL=" + moto.Endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_LAMBDA_FUNCTION_NAME=ipsync-test"}
	ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// 1. The webhook function: a signed alert is enqueued; a forged one is not.
	hookRT, hookLogs := start(t, webhookBin, env)
	for name, want := range map[string]int{"webhook-url-request.json": 202, "webhook-bad-signature.json": 401} {
		ev, _ := os.ReadFile("../events/" + name)
		res, err := hookRT.Invoke(ictx, ev)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.LambdaFunctionURLResponse
		if err := json.Unmarshal(res.Response, &resp); err != nil || resp.StatusCode != want {
			t.Fatalf("%s: %s %s (%v)\nlogs:\n%s", name, res.Response, res.Error, err, hookLogs)
		}
	}
	msgs, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: trig.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != 1 {
		t.Fatalf("trigger queue holds %d messages (%v), want 1", len(msgs.Messages), err)
	}
	m := msgs.Messages[0]

	// 2. The reconcile function, invoked by that message as an SQS batch.
	recRT, recLogs := start(t, reconcileBin, env)
	batch := events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body), EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:triggers.fifo", AWSRegion: "us-east-1"}}}
	payload, _ := json.Marshal(batch)
	res, err := recRT.Invoke(ictx, payload)
	if err != nil || res.Error != nil {
		t.Fatalf("reconcile: %v %s\nlogs:\n%s", err, res.Error, recLogs)
	}
	out, err := kms.NewFromConfig(cfg).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Read([]byte(aws.ToString(out.Policy)), "AtlasIPAllowList")
	if err != nil || strings.Join(c.Values, " ") != "3.92.113.229/32 3.212.79.116/32 198.51.100.10/32" {
		t.Fatalf("key policy after the reconcile: %v %v", c.Values, err)
	}
	alerts, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: oncall.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil || len(alerts.Messages) != 1 {
		t.Fatalf("on-call got %d alerts (%v)", len(alerts.Messages), err)
	}
	var note struct {
		Subject           string
		MessageAttributes map[string]struct{ Value string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(alerts.Messages[0].Body)), &note); err != nil || note.MessageAttributes["event"].Value != "applied" || !strings.Contains(note.Subject, "atlas-ear-key") {
		t.Fatalf("alert %+v (%v)", note, err)
	}

	// 3. The schedule: nothing to do, no error.
	sched, _ := os.ReadFile("../events/schedule.json")
	if res, err := recRT.Invoke(ictx, sched); err != nil || res.Error != nil {
		t.Fatalf("scheduled run: %v %s", err, res.Error)
	}

	// 4. A failing run fails the invocation, so Lambda retries it.
	sim.RemoveProject(project)
	eb, _ := os.ReadFile("../events/eventbridge.json")
	res, err = recRT.Invoke(ictx, eb)
	if err != nil || res.Error == nil || !strings.Contains(string(res.Error), "GROUP_NOT_FOUND") {
		t.Fatalf("failing run: %v response %s error %s", err, res.Response, res.Error)
	}

	// Each function counts what it did in EMF: the webhook its answers,
	// the reconcile its runs by outcome.
	wantEmitted(t, ictx, hookLogs, "AtlasIpSync/WebhookRequests{StatusCode}", metrics.StatusCode, "202", "401")
	wantEmitted(t, ictx, recLogs, "AtlasIpSync/Runs{Outcome}", metrics.Outcome, "applied", "failed")

	// Logs are JSON lines, EMF metrics included, and hold no secret.
	for _, logs := range []string{hookLogs.String(), recLogs.String()} {
		if strings.Contains(logs, "priv-S3CRET") || strings.Contains(logs, string(webhookSecret)) {
			t.Fatal("a secret reached the logs")
		}
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("log line is not JSON: %q", line)
			}
		}
	}
}

// wantEmitted waits until the EMF lines among a function's output publish
// key with each of the values of dim, and fails if ctx ends first.
func wantEmitted(t *testing.T, ctx context.Context, logs *lockedBuffer, key string, dim metrics.Dimension, values ...string) {
	t.Helper()
	seen := func(out string) map[string]bool {
		var emf []string
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, `"_aws"`) && json.Valid([]byte(line)) { // the last line may be half-copied
				emf = append(emf, line)
			}
		}
		got, err := metrics.Read([]byte(strings.Join(emf, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range got {
			if e.Key() == key {
				seen[e.Labels[dim]] = true
			}
		}
		return seen
	}
	all := func(out string) bool {
		s := seen(out)
		for _, v := range values {
			if !s[v] {
				return false
			}
		}
		return true
	}
	if err := logs.waitFor(ctx, all); err != nil {
		t.Errorf("no %s with %s in %v in the function's output (saw %v): %v", key, dim, values, seen(logs.String()), err)
	}
}

func TestBadConfigFailsAtStartWithAClearError(t *testing.T) {
	bin := build(t, "reconcile")
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "IPSYNC_CONFIG="}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errorsAs(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "IPSYNC_CONFIG is empty") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}
