// Package reconcilefn is what the reconcile function does with an
// invocation: tell the triggers apart, run the loop once, emit metrics, and
// fail the invocation when the run failed so that Lambda retries and the
// failure destination catches it. functions/reconcile only wires it up.
package reconcilefn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

// EventKind is the shape of the event that invoked the function.
type EventKind string

// Event kinds.
const (
	EventSQS         EventKind = "sqs"         // a batch of the trigger queue (the webhook)
	EventEventBridge EventKind = "eventbridge" // an EventBridge rule's event
	EventSchedule    EventKind = "schedule"    // an EventBridge Scheduler payload (any JSON)
)

// Trigger says what invoked the function.
type Trigger struct {
	Kind     EventKind
	Messages []string // SQS message ids
	Detail   string   // EventBridge detail-type
}

// Seen is the trigger the snapshot remembers this one by: the webhook's
// queue is the webhook.
func (t Trigger) Seen() reconcile.Trigger {
	switch t.Kind {
	case EventSQS:
		return reconcile.TriggerWebhook
	case EventEventBridge:
		return reconcile.TriggerEventBridge
	}
	return reconcile.TriggerSchedule
}

// Decode tells an SQS batch, an EventBridge rule event and an EventBridge
// Scheduler payload (any JSON) apart.
func Decode(raw json.RawMessage) (Trigger, error) {
	var probe struct {
		Records    []struct{ EventSource string }
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
	}
	if !json.Valid(raw) {
		return Trigger{}, errors.New("the event is not JSON")
	}
	_ = json.Unmarshal(raw, &probe) // any JSON is a valid schedule payload
	switch {
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs":
		var e events.SQSEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return Trigger{}, fmt.Errorf("decode SQS event: %w", err)
		}
		t := Trigger{Kind: EventSQS}
		for _, m := range e.Records {
			t.Messages = append(t.Messages, m.MessageId)
		}
		return t, nil
	case probe.DetailType != "" && probe.Source != "":
		var e events.EventBridgeEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			return Trigger{}, fmt.Errorf("decode EventBridge event: %w", err)
		}
		return Trigger{Kind: EventEventBridge, Detail: e.DetailType}, nil
	}
	return Trigger{Kind: EventSchedule}, nil
}

// Reconcile is the reconcile function's handler. Its adapters are built on
// the first invocation, not at init: no network call or secret read slows a
// cold start, and a failure to build them fails that invocation only.
type Reconcile struct {
	Config  *config.Config
	Build   func(ctx context.Context) (reconcile.Deps, error)
	Log     *slog.Logger
	Metrics io.Writer // CloudWatch Embedded Metric Format lines

	mu   sync.Mutex
	deps *reconcile.Deps
}

func (h *Reconcile) adapters(ctx context.Context) (reconcile.Deps, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.deps == nil {
		d, err := h.Build(ctx)
		if err != nil {
			return reconcile.Deps{}, err
		}
		h.deps = &d
	}
	return *h.deps, nil
}

// Handle runs the loop once, whatever the trigger (one run per SQS batch).
func (h *Reconcile) Handle(ctx context.Context, raw json.RawMessage) error {
	t, err := Decode(raw)
	if err != nil {
		h.Log.Error("unreadable event", "error", err.Error())
		return err
	}
	h.Log.Info("reconcile triggered", "trigger", string(t.Kind), "messages", len(t.Messages), "detailType", t.Detail)
	d, err := h.adapters(ctx)
	if err != nil {
		h.Log.Error("building adapters failed", "error", err.Error())
		h.metrics(reconcile.Report{Status: plan.Error, Err: err}, time.Now())
		return err
	}
	r := reconcile.Run(ctx, h.Config, d, reconcile.Options{Trigger: t.Seen()})
	h.metrics(r, d.Now())
	switch {
	case r.Status == plan.Refused:
		// Alerted already; retrying cannot make a suspect source safe.
		h.Log.Warn("run refused by a guard; nothing written")
		return nil
	case r.Err != nil:
		return fmt.Errorf("reconcile: %w", r.Err)
	case r.Status == plan.Error:
		return h.targetsFailed(r)
	}
	h.Log.Info("reconcile done", "status", string(r.Status), "hash", r.Hash)
	return nil
}

// metrics writes the run's metrics; a failure to write them is logged, not
// the run's failure.
func (h *Reconcile) metrics(r reconcile.Report, at time.Time) {
	if h.Metrics == nil {
		return
	}
	if err := WriteMetrics(h.Metrics, r, at); err != nil {
		h.Log.Error("writing metrics failed", "error", err.Error())
	}
}

// targetsFailed logs each target that did not end in sync, with its reason,
// and returns an error naming them: the invocation's error is what the
// Lambda console and the error alarm's investigation start from.
func (h *Reconcile) targetsFailed(r reconcile.Report) error {
	var failed []string
	for _, t := range r.Targets {
		if t.Status.NotInSync() {
			h.Log.Error("target not in sync", "target", t.Name, "status", string(t.Status), "reason", t.Reason)
			failed = append(failed, fmt.Sprintf("%s (%s): %s", t.Name, t.Status, t.Reason))
		}
	}
	return fmt.Errorf("reconcile: %d target(s) not in sync: %s", len(failed), strings.Join(failed, "; "))
}
