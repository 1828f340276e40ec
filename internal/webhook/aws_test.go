package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestSQSQueueDeduplicates(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	ctx := context.Background()
	q := sqs.NewFromConfig(cfg)
	name := fmt.Sprintf("ipsync-triggers-%d.fifo", time.Now().UnixNano())
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	queue := webhook.NewSQSQueue(q, aws.ToString(out.QueueUrl))
	tr := webhook.Trigger{AlertID: "6561f0a2c3d4e5f6a7b8c9d0", Status: "OPEN", DedupID: "6561f0a2c3d4e5f6a7b8c9d0-OPEN", ReceivedAt: time.Now().UTC()}
	for range 2 {
		if err := queue.Enqueue(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	res, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: out.QueueUrl, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"MessageGroupId"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("%d messages, want 1 (the replay deduplicated)", len(res.Messages))
	}
	var got webhook.Trigger
	if err := json.Unmarshal([]byte(aws.ToString(res.Messages[0].Body)), &got); err != nil || got.AlertID != tr.AlertID || got.Status != "OPEN" {
		t.Fatalf("message %+v %v", got, err)
	}
	if g := res.Messages[0].Attributes["MessageGroupId"]; g != webhook.MessageGroup {
		t.Fatalf("message group %q", g)
	}
	if err := webhook.NewSQSQueue(q, "http://127.0.0.1:1/nope").Enqueue(ctx, tr); err == nil {
		t.Fatal("enqueue to an unreachable queue succeeded")
	}
}

func TestSecretCacheAcrossRotation(t *testing.T) {
	moto := testenv.SharedMoto(t)
	sm := secretsmanager.NewFromConfig(moto.AWSConfig(t))
	ctx := context.Background()
	id := fmt.Sprintf("ipsync/webhook-%d", time.Now().UnixNano())
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &id, SecretString: aws.String("first")}); err != nil {
		t.Fatal(err)
	}
	c := webhook.NewSecretCache(sm, id)
	got, err := c.Secrets(ctx, false)
	if err != nil || len(got) != 1 || string(got[0]) != "first" {
		t.Fatalf("before rotation: %q %v", got, err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &id, SecretString: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Secrets(ctx, false); len(got) != 1 {
		t.Fatalf("cache not used: %q", got)
	}
	c.MinRefresh = 0
	got, err = c.Secrets(ctx, true)
	if err != nil || len(got) != 2 || string(got[0]) != "second" || string(got[1]) != "first" {
		t.Fatalf("after rotation: %q %v", got, err)
	}
}
