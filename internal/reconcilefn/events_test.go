package reconcilefn

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
)

func TestReconcileEventsDecode(t *testing.T) {
	for name, want := range map[string]EventKind{"schedule.json": EventSchedule, "eventbridge.json": EventEventBridge, "sqs-trigger.json": EventSQS, `{}`: EventSchedule} {
		raw := []byte(name)
		if strings.HasSuffix(name, ".json") {
			raw = testenv.ReadEvent(t, name)
		}
		tr, err := Decode(raw)
		if err != nil || tr.Kind != want {
			t.Errorf("%s: %+v %v, want %s", name, tr, err, want)
		}
	}
	tr, _ := Decode(testenv.ReadEvent(t, "sqs-trigger.json"))
	if tr.Seen() != reconcile.TriggerWebhook {
		t.Errorf("the webhook's queue is remembered as %q", tr.Seen())
	}
	if len(tr.Messages) != 1 || tr.Messages[0] != "c80e8021-a70a-42c7-a470-796e1186f753" {
		t.Errorf("sqs messages %v", tr.Messages)
	}
	var sqsEvent events.SQSEvent
	if err := json.Unmarshal(testenv.ReadEvent(t, "sqs-trigger.json"), &sqsEvent); err != nil || sqsEvent.Records[0].EventSource != "aws:sqs" {
		t.Fatalf("SQSEvent: %v", err)
	}
	var trig webhook.Trigger
	if err := json.Unmarshal([]byte(sqsEvent.Records[0].Body), &trig); err != nil || trig.AlertID == "" {
		t.Fatalf("the queued trigger does not decode: %v", err)
	}
	var eb events.EventBridgeEvent
	if err := json.Unmarshal(testenv.ReadEvent(t, "eventbridge.json"), &eb); err != nil || eb.DetailType != "Scheduled Event" {
		t.Fatalf("EventBridgeEvent: %+v %v", eb, err)
	}
	if _, err := Decode([]byte(`not json`)); err == nil {
		t.Fatal("non-JSON event accepted")
	}
}
