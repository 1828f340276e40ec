package reconcilefn

import (
	"encoding/json"
	"io"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "AtlasIpSync"

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

func emf(w io.Writer, at time.Time, d emfDirective, fields map[string]any) {
	fields["_aws"] = map[string]any{"Timestamp": at.UnixMilli(), "CloudWatchMetrics": []emfDirective{d}}
	b, _ := json.Marshal(fields)
	_, _ = w.Write(append(b, '\n'))
}

// WriteMetrics writes a run's metrics in CloudWatch Embedded Metric Format:
// runs by outcome (and Refused and MaxPolicySizePercent without dimensions,
// for the alarms), the Atlas fetch latency, and per target its address
// count, its changes and its policy's size as a share of the limit.
func WriteMetrics(w io.Writer, r reconcile.Report, at time.Time) {
	outcome := string(r.Status)
	refused, maxShare := 0, 0.0
	if r.Status == plan.Refused {
		refused = 1
	}
	for _, t := range r.Targets {
		share := 0.0
		if t.Limit > 0 {
			share = 100 * float64(t.Size) / float64(t.Limit)
		}
		maxShare = max(maxShare, share)
		emf(w, at, emfDirective{Namespace: Namespace, Dimensions: [][]string{{"Target"}}, Metrics: []emfMetric{
			{"Addresses", "Count"}, {"Changes", "Count"}, {"PolicySizePercent", "Percent"},
		}}, map[string]any{"Target": t.Name, "Addresses": t.Desired.Len(), "Changes": t.Add.Len() + t.Remove.Len(), "PolicySizePercent": share})
	}
	emf(w, at, emfDirective{Namespace: Namespace, Dimensions: [][]string{{}, {"Outcome"}}, Metrics: []emfMetric{
		{"Runs", "Count"}, {"Refused", "Count"}, {"AtlasFetchLatency", "Milliseconds"}, {"MaxPolicySizePercent", "Percent"},
	}}, map[string]any{"Outcome": outcome, "Runs": 1, "Refused": refused, "AtlasFetchLatency": float64(r.FetchDuration.Microseconds()) / 1000, "MaxPolicySizePercent": maxShare})
}
