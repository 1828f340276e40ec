package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/hook"
)

// TestNoSecretLeaks runs plans, applies, failures and webhooks with known
// secret values and looks for them in everything a person or a log sees.
func TestNoSecretLeaks(t *testing.T) {
	const (
		atlasPrivate = "atlas-private-S3CRET-7f3a"
		saSecret     = "service-account-S3CRET-91bc"
		hookSecret   = "webhook-S3CRET-c0ffee"
	)
	moto := testenv.SharedMoto(t)
	t.Setenv("AWS_ENDPOINT_URL", moto.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	ctx := context.Background()
	cfgAWS := moto.AWSConfig(t)
	suffix := fmt.Sprint(time.Now().UnixNano())

	sim := startSim(t)
	sim.AddAPIKey("pub", atlasPrivate)
	sim.AddServiceAccount("mdb_sa_id_1", saSecret)
	key := testenv.CreateKey(t, cfgAWS, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	sm := secretsmanager.NewFromConfig(cfgAWS)
	for name, v := range map[string]string{
		"atlas-key-" + suffix: `{"publicKey":"pub","privateKey":"` + atlasPrivate + `"}`,
		"atlas-sa-" + suffix:  `{"clientId":"mdb_sa_id_1","clientSecret":"` + saSecret + `"}`,
		"atlas-bad-" + suffix: `{"publicKey":"pub","privateKey":"wrong-` + atlasPrivate + `"}`,
		"hook-" + suffix:      hookSecret,
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	q := sqs.NewFromConfig(cfgAWS)
	oncall, _ := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("oncall-" + suffix)})
	arn, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: oncall.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	topic, _ := sns.NewFromConfig(cfgAWS).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts-" + suffix)})
	if _, err := sns.NewFromConfig(cfgAWS).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arn.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	triggers, _ := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("triggers-" + suffix + ".fifo"), Attributes: map[string]string{"FifoQueue": "true"}})

	configFor := func(secretName string) string {
		return writeConfig(t, fmt.Sprintf(`atlas:
  baseURL: %s
  credentials: {secretId: %s}
  projects: [%q]
snapshot: {url: "file://%s"}
notify: {topicArn: %s}
trigger: {queueUrl: %s}
webhook: {secretId: hook-%s}
targets:
  - {name: atlas-ear-key, type: kms-key-policy, resource: %s, sid: AtlasIPAllowList}
`, sim.URL(), secretName, project, filepath.Join(t.TempDir(), "s.json"), aws.ToString(topic.TopicArn), aws.ToString(triggers.QueueUrl), suffix, key))
	}
	var seen strings.Builder
	record := func(r result) { seen.WriteString(r.stdout + r.stderr) }
	env := map[string]string{"IPSYNC_LOG_LEVEL": "debug"}

	good := configFor("atlas-key-" + suffix)
	for _, args := range [][]string{{"fetch"}, {"fetch", "--json"}, {"plan"}, {"plan", "--json"}, {"apply"}, {"apply", "--json"}, {"snapshot"}} {
		record(ipsync(t, env, append(args, "--config", good)...))
	}
	record(ipsync(t, env, "plan", "--config", configFor("atlas-sa-"+suffix)))
	bad := ipsync(t, env, "plan", "--config", configFor("atlas-bad-"+suffix))
	if bad.code != exitError {
		t.Fatalf("wrong key: exit %d", bad.code)
	}
	record(bad)
	sim.SetControlPlane(atlastest.ControlPlaneIPs{}) // a refusal and its alert
	record(ipsync(t, env, "apply", "--config", good))

	// The webhook, through the same handler the function and `webhook serve` use.
	c, err := configfile.Parse([]byte(readFile(t, good)))
	if err != nil {
		t.Fatal(err)
	}
	var hookLogs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&hookLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	awsCfg, err := awsConfig(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hook.Handler(c, awsCfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := []byte(`{"id":"6561f0a2c3d4e5f6a7b8c9d0","status":"OPEN"}`)
	mac := hmac.New(sha1.New, []byte(hookSecret))
	mac.Write(body)
	for sig, want := range map[string]int{base64.StdEncoding.EncodeToString(mac.Sum(nil)): 202, "Zm9yZ2Vk": 401} {
		req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(body))
		req.Header.Set("X-MMS-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("webhook: %d, want %d", resp.StatusCode, want)
		}
		seen.WriteString(b.String())
	}
	seen.WriteString(hookLogs.String())

	// Every SNS message on-call received.
	alerts := 0
	for {
		res, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: oncall.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			break
		}
		for _, m := range res.Messages {
			alerts++
			seen.WriteString(aws.ToString(m.Body))
			_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: oncall.QueueUrl, ReceiptHandle: m.ReceiptHandle})
		}
	}
	if alerts < 2 || seen.Len() < 2000 {
		t.Fatalf("too little to look at: %d alerts, %d bytes", alerts, seen.Len())
	}
	for _, s := range []string{atlasPrivate, saSecret, hookSecret, "S3CRET"} {
		if i := strings.Index(seen.String(), s); i >= 0 {
			lo := max(0, i-200)
			t.Fatalf("secret %q leaked: …%s…", s, seen.String()[lo:min(len(seen.String()), i+50)])
		}
	}
	t.Logf("checked %d bytes of output, logs and %d alerts", seen.Len(), alerts)
}
