package reconcilefn

import (
	"io"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

// Outcome is how a run ended, as the Runs metric's Outcome dimension says it.
type Outcome string

// The outcomes. A run whose target was rolled back or is blocked is an error
// run for the plan; the dashboard tells those apart from other failures.
const (
	OutcomeApplied    Outcome = "applied"
	OutcomeInSync     Outcome = "in-sync"
	OutcomeChanges    Outcome = "changes" // dry-run: changes found, none written
	OutcomeRefused    Outcome = "refused"
	OutcomeFailed     Outcome = "failed"
	OutcomeRolledBack Outcome = "rolled-back"
	OutcomeBlocked    Outcome = "blocked"
)

// Outcomes is every outcome, in the order the dashboard stacks them.
var Outcomes = []Outcome{OutcomeApplied, OutcomeInSync, OutcomeChanges, OutcomeRefused, OutcomeFailed, OutcomeRolledBack, OutcomeBlocked}

// OutcomeOf names how r ended: a rollback outweighs a block, which outweighs
// any other failure.
func OutcomeOf(r reconcile.Report) Outcome {
	switch r.Status {
	case plan.Applied:
		return OutcomeApplied
	case plan.InSync:
		return OutcomeInSync
	case plan.Changes:
		return OutcomeChanges
	case plan.Refused:
		return OutcomeRefused
	}
	out := OutcomeFailed
	for _, t := range r.Targets {
		switch {
		case t.Status == plan.RolledBack:
			return OutcomeRolledBack
		case t.Status == plan.Blocked:
			out = OutcomeBlocked
		}
	}
	return out
}

// WriteMetrics writes a run's metrics in CloudWatch Embedded Metric Format:
// runs by outcome (and Refused and MaxPolicySizePercent without dimensions,
// for the alarms), the Atlas fetch latency, and per target its address
// count, its changes, its size as a share of the limit and whether it ended
// in sync.
func WriteMetrics(w io.Writer, r reconcile.Report, at time.Time) error {
	refused, maxShare := 0.0, 0.0
	if r.Status == plan.Refused {
		refused = 1
	}
	for _, t := range r.Targets {
		share, ok := 0.0, 0.0
		if t.Limit > 0 {
			share = 100 * float64(t.Size) / float64(t.Limit)
		}
		if t.Status == plan.InSync || t.Status == plan.Applied {
			ok = 1
		}
		maxShare = max(maxShare, share)
		err := metrics.Write(w, at, metrics.Line{
			Dimensions: [][]metrics.Dimension{{metrics.Target}},
			Labels:     map[metrics.Dimension]string{metrics.Target: t.Name},
			Values: []metrics.Value{
				{Name: metrics.Addresses, Unit: metrics.Count, Value: float64(t.Desired.Len())},
				{Name: metrics.Changes, Unit: metrics.Count, Value: float64(t.Add.Len() + t.Remove.Len())},
				{Name: metrics.PolicySizePercent, Unit: metrics.Percent, Value: share},
				{Name: metrics.Succeeded, Unit: metrics.Count, Value: ok},
			},
		})
		if err != nil {
			return err
		}
	}
	run := []metrics.Value{
		{Name: metrics.Runs, Unit: metrics.Count, Value: 1},
		{Name: metrics.Refused, Unit: metrics.Count, Value: refused},
		{Name: metrics.MaxPolicySizePercent, Unit: metrics.Percent, Value: maxShare},
	}
	if r.FetchDuration > 0 { // a run that never asked Atlas has no latency to report
		run = append(run, metrics.Value{Name: metrics.AtlasFetchLatency, Unit: metrics.Milliseconds, Value: float64(r.FetchDuration.Microseconds()) / 1000})
	}
	return metrics.Write(w, at, metrics.Line{
		Dimensions: [][]metrics.Dimension{{}, {metrics.Outcome}},
		Labels:     map[metrics.Dimension]string{metrics.Outcome: string(OutcomeOf(r))},
		Values:     run,
	})
}
