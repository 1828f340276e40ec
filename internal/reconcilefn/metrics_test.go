package reconcilefn

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

func TestMetricsAreEMF(t *testing.T) {
	var buf bytes.Buffer
	r := reconcile.Report{Status: plan.Applied, FetchDuration: 1500 * time.Microsecond, Targets: []plan.TargetPlan{
		{Target: plan.Target{Name: "key"}, Status: plan.Applied, Add: ipset.MustParse("1.1.1.1"), Desired: ipset.MustParse("1.1.1.1", "2.2.2.2"), Size: 16384, Limit: 32768},
		{Target: plan.Target{Name: "group"}, Status: plan.Error, Desired: ipset.MustParse("1.1.1.1")},
	}}
	if err := WriteMetrics(&buf, r, time.Unix(1763630043, 0)); err != nil {
		t.Fatal(err)
	}
	got, err := metrics.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, e := range got {
		values[e.Key()+"="+e.Labels[metrics.Target]+e.Labels[metrics.Outcome]] = e.Value
	}
	want := map[string]float64{
		"AtlasIpSync/Addresses{Target}=key": 2, "AtlasIpSync/Changes{Target}=key": 1, "AtlasIpSync/PolicySizePercent{Target}=key": 50, "AtlasIpSync/Succeeded{Target}=key": 1,
		"AtlasIpSync/Succeeded{Target}=group": 0, "AtlasIpSync/PolicySizePercent{Target}=group": 0,
		"AtlasIpSync/Runs{}=": 1, "AtlasIpSync/Runs{Outcome}=applied": 1, "AtlasIpSync/Refused{}=": 0,
		"AtlasIpSync/AtlasFetchLatency{}=": 1.5, "AtlasIpSync/MaxPolicySizePercent{}=": 50,
	}
	for k, v := range want {
		if g, ok := values[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestARunThatNeverAskedAtlasHasNoLatency(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMetrics(&buf, reconcile.Report{Status: plan.Error, Err: errors.New("no credentials")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ := metrics.Read(buf.Bytes())
	for _, e := range got {
		if e.Name == metrics.AtlasFetchLatency {
			t.Errorf("latency %v for a run that never fetched", e.Value)
		}
		if e.Name == metrics.Runs && len(e.Dimensions) == 1 && e.Labels[metrics.Outcome] != string(OutcomeFailed) {
			t.Errorf("outcome %s", e.Labels[metrics.Outcome])
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	target := func(s plan.Status) plan.TargetPlan { return plan.TargetPlan{Status: s} }
	for _, tc := range []struct {
		status  plan.Status
		targets []plan.TargetPlan
		want    Outcome
	}{
		{plan.Applied, nil, OutcomeApplied},
		{plan.InSync, nil, OutcomeInSync},
		{plan.Changes, nil, OutcomeChanges},
		{plan.Refused, []plan.TargetPlan{target(plan.Refused)}, OutcomeRefused},
		{plan.Error, nil, OutcomeFailed},
		{plan.Error, []plan.TargetPlan{target(plan.Applied), target(plan.Error)}, OutcomeFailed},
		{plan.Error, []plan.TargetPlan{target(plan.Blocked), target(plan.Error)}, OutcomeBlocked},
		{plan.Error, []plan.TargetPlan{target(plan.Blocked), target(plan.RolledBack)}, OutcomeRolledBack},
		{plan.Error, []plan.TargetPlan{target(plan.RolledBack), target(plan.Blocked)}, OutcomeRolledBack},
	} {
		if got := OutcomeOf(reconcile.Report{Status: tc.status, Targets: tc.targets}); got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.status, tc.targets, got, tc.want)
		}
	}
}
