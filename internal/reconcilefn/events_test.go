package reconcilefn

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
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

func TestMetricsAreEMF(t *testing.T) {
	var buf bytes.Buffer
	r := reconcile.Report{Status: plan.Applied, FetchDuration: 1500 * time.Microsecond, Targets: []plan.TargetPlan{
		{Target: plan.Target{Name: "key"}, Status: plan.Applied, Add: ipset.MustParse("1.1.1.1"), Desired: ipset.MustParse("1.1.1.1", "2.2.2.2"), Size: 16384, Limit: 32768},
	}}
	WriteMetrics(&buf, r, time.Unix(1763630043, 0))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var target, run map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &target)
	_ = json.Unmarshal([]byte(lines[1]), &run)
	if target["Target"] != "key" || target["PolicySizePercent"] != 50.0 || target["Changes"] != 1.0 || target["Addresses"] != 2.0 {
		t.Errorf("target line %v", target)
	}
	if run["Outcome"] != "applied" || run["Runs"] != 1.0 || run["AtlasFetchLatency"] != 1.5 || run["MaxPolicySizePercent"] != 50.0 || run["Refused"] != 0.0 {
		t.Errorf("run line %v", run)
	}
	aws, _ := run["_aws"].(map[string]any)
	if aws == nil || aws["Timestamp"] != 1763630043000.0 {
		t.Errorf("no _aws envelope: %v", run)
	}
	dirs, _ := aws["CloudWatchMetrics"].([]any)
	d0, _ := dirs[0].(map[string]any)
	if d0["Namespace"] != Namespace {
		t.Errorf("directive %v", d0)
	}
}
