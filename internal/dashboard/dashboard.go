// Package dashboard is the one source of the CloudWatch dashboard: the
// widgets below render into template.yaml's Dashboard resource and into the
// sketch docs/dashboard.svg (make dashboard writes both; a test checks they
// are current and that every widget reads a metric the functions emit).
package dashboard

import (
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcilefn"
)

// Ref is a CloudFormation value inside the !Sub body, such as
// "${ReconcileLogGroup}" or "${FailureQueue.QueueName}".
type Ref string

// Series is one metric line.
type Series struct {
	Namespace  string // metrics.Namespace or an AWS service's
	Metric     string
	Dimensions []Dim // in the order CloudWatch lists them
	Stat       string
	Label      string
}

// Dim is one dimension's name and value.
type Dim struct {
	Name  string
	Value string // a literal, or a Ref
}

// Search draws one line per value of Dimensions: the targets are not known
// when the template is written.
type Search struct {
	Metric     metrics.Name
	Dimensions []metrics.Dimension
	Stat       string
}

// Query is a CloudWatch Logs Insights table over a function's log group:
// the EMF lines are log events too.
type Query struct {
	LogGroup Ref
	Fields   []string // the EMF keys the query reads
	Text     string   // after "SOURCE … |"
}

// Line is a horizontal annotation.
type Line struct {
	Value float64
	Label string
}

// Widget is one panel on a 24-column grid.
type Widget struct {
	Title      string
	X, Y, W, H int
	Series     []Series
	Search     *Search
	Query      *Query
	Period     int // seconds
	Stacked    bool
	Line       *Line
	YMin, YMax *float64
	Sketch     string // what the SVG sketch says the widget shows
}

func pct(v float64) *float64 { return &v }

// outcomes is one stacked series per way a run can end.
func outcomes() []Series {
	labels := map[reconcilefn.Outcome]string{reconcilefn.OutcomeFailed: "failed (Atlas, AWS or a target)", reconcilefn.OutcomeChanges: "changes (dry run)"}
	var out []Series
	for _, o := range reconcilefn.Outcomes {
		label := labels[o]
		if label == "" {
			label = string(o)
		}
		out = append(out, Series{Namespace: metrics.Namespace, Metric: string(metrics.Runs), Dimensions: []Dim{{string(metrics.Outcome), string(o)}}, Stat: "Sum", Label: label})
	}
	return out
}

func deadLetters(queue Ref, label string) Series {
	return Series{Namespace: "AWS/SQS", Metric: "ApproximateNumberOfMessagesVisible", Dimensions: []Dim{{"QueueName", string(queue)}}, Stat: "Maximum", Label: label}
}

// Widgets is the dashboard, top to bottom.
func Widgets() []Widget {
	target := []metrics.Dimension{metrics.Target}
	return []Widget{
		{Title: "Addresses allowed, per target", X: 0, Y: 0, W: 8, H: 6, Period: 300,
			Search: &Search{Metric: metrics.Addresses, Dimensions: target, Stat: "Maximum"},
			Sketch: "one line per target"},
		{Title: "Used, % of the limit, per target", X: 8, Y: 0, W: 8, H: 6, Period: 300,
			Search: &Search{Metric: metrics.PolicySizePercent, Dimensions: target, Stat: "Maximum"},
			Line:   &Line{Value: 80, Label: "80 %: the alarm; refused at 100 %"}, YMin: pct(0), YMax: pct(100),
			Sketch: "one line per target, the 80 % line drawn"},
		{Title: "Last successful run, per target", X: 16, Y: 0, W: 8, H: 6,
			Query: &Query{LogGroup: "${ReconcileLogGroup}", Fields: []string{string(metrics.Target), string(metrics.Succeeded)},
				Text: "filter Succeeded = 1 | stats latest(@timestamp) as lastSuccess by Target | sort lastSuccess asc"},
			Sketch: "table: target, time of its last in-sync or applied run (oldest first)"},
		{Title: "Runs by outcome", X: 0, Y: 6, W: 12, H: 6, Period: 3600, Stacked: true,
			Series: outcomes(),
			Sketch: "stacked per hour: applied, in-sync, changes, refused, failed, rolled-back, blocked"},
		{Title: "Atlas fetch latency (ms)", X: 12, Y: 6, W: 12, H: 6, Period: 300,
			Series: []Series{
				{Namespace: metrics.Namespace, Metric: string(metrics.AtlasFetchLatency), Stat: "p50", Label: "p50"},
				{Namespace: metrics.Namespace, Metric: string(metrics.AtlasFetchLatency), Stat: "p99", Label: "p99"},
			},
			Sketch: "p50 and p99"},
		{Title: "Webhook requests by status code", X: 0, Y: 12, W: 12, H: 6, Period: 300, Stacked: true,
			Search: &Search{Metric: metrics.WebhookRequests, Dimensions: []metrics.Dimension{metrics.StatusCode}, Stat: "Sum"},
			Sketch: "stacked, one band per status code (202 accepted, 401 bad signature, 403 not Atlas, 503 retry)"},
		{Title: "Dead-letter queues (messages waiting)", X: 12, Y: 12, W: 12, H: 6, Period: 300,
			Series: []Series{
				deadLetters("${TriggerDeadLetterQueue.QueueName}", "webhook triggers that failed 3 times"),
				deadLetters("${FailureQueue.QueueName}", "invocations that failed their retries"),
			},
			Line:   &Line{Value: 1, Label: "any message is an alarm"},
			Sketch: "the trigger DLQ and the failure queue; any message alarms"},
	}
}
