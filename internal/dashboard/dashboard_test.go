package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcilefn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
)

var update = flag.Bool("update", false, "rewrite template.yaml's dashboard and docs/dashboard.svg")

var (
	templatePath = filepath.Join("..", "..", "template.yaml")
	sketchPath   = filepath.Join("..", "..", "docs", "dashboard.svg")
)

// TestGenerated: template.yaml and the sketch are what this package renders
// (make dashboard rewrites them).
func TestGenerated(t *testing.T) {
	res, err := Resource()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	spliced, err := Splice(string(tpl), res)
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := os.ReadFile(sketchPath)
	if *update {
		if err := os.WriteFile(templatePath, []byte(spliced), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(sketchPath, []byte(SVG()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if spliced != string(tpl) {
		t.Error("template.yaml's dashboard is not what internal/dashboard renders: run make dashboard")
	}
	if string(svg) != SVG() {
		t.Error("docs/dashboard.svg is not what internal/dashboard renders: run make dashboard")
	}
}

// emitted is every metric the functions write, from the real writers: one
// run of each outcome, and a webhook answer of each status.
func emitted(t *testing.T) []metrics.Emitted {
	t.Helper()
	var out bytes.Buffer
	targets := func(s plan.Status) []plan.TargetPlan {
		return []plan.TargetPlan{{Target: plan.Target{Name: "key"}, Status: s, Desired: ipset.MustParse("192.0.2.1"), Size: 100, Limit: 32768}}
	}
	for _, r := range []reconcile.Report{
		{Status: plan.Applied, Targets: targets(plan.Applied), FetchDuration: time.Millisecond},
		{Status: plan.InSync, Targets: targets(plan.InSync), FetchDuration: time.Millisecond},
		{Status: plan.Changes, Targets: targets(plan.Changes), FetchDuration: time.Millisecond},
		{Status: plan.Refused, Targets: targets(plan.Refused), FetchDuration: time.Millisecond},
		{Status: plan.Error, Targets: targets(plan.Error), FetchDuration: time.Millisecond},
		{Status: plan.Error, Targets: targets(plan.RolledBack), FetchDuration: time.Millisecond},
		{Status: plan.Error, Targets: targets(plan.Blocked), FetchDuration: time.Millisecond},
	} {
		if err := reconcilefn.WriteMetrics(&out, r, time.Unix(1763630043, 0)); err != nil {
			t.Fatal(err)
		}
	}
	h := &webhook.Handler{Metrics: &out}
	h.Handle(context.Background(), webhook.Request{Method: http.MethodGet})
	got, err := metrics.Read(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEveryWidgetReadsAnEmittedMetric(t *testing.T) {
	for _, complaint := range unemitted(Widgets(), emitted(t)) {
		t.Error(complaint)
	}
}

// A widget drawing what nobody emits is found, whichever way it draws it.
func TestTheCheckFindsWhatNobodyEmits(t *testing.T) {
	planted := []Widget{
		{Title: "renamed", Search: &Search{Metric: "AddressesAllowed", Dimensions: []metrics.Dimension{metrics.Target}}},
		{Title: "wrong dimension", Search: &Search{Metric: metrics.Addresses, Dimensions: []metrics.Dimension{metrics.Outcome}}},
		{Title: "no such outcome", Series: []Series{{Namespace: metrics.Namespace, Metric: string(metrics.Runs), Dimensions: []Dim{{string(metrics.Outcome), "error"}}}}},
		{Title: "no such field", Query: &Query{Fields: []string{"LastSuccess"}, Text: "filter LastSuccess = 1"}},
	}
	got := unemitted(planted, emitted(t))
	if len(got) != len(planted) {
		t.Fatalf("found %d of %d planted widgets: %q", len(got), len(planted), got)
	}
	for i, w := range planted {
		if !strings.Contains(got[i], w.Title) {
			t.Errorf("complaint %q is not about %q", got[i], w.Title)
		}
	}
}

// unemitted says which widgets draw a metric, a dimension set, a
// dimension's value or a log field that no line in all holds.
func unemitted(ws []Widget, all []metrics.Emitted) []string {
	byKey := map[string][]metrics.Emitted{}
	for _, e := range all {
		byKey[e.Key()] = append(byKey[e.Key()], e)
	}
	key := func(name string, dims []metrics.Dimension) string {
		return metrics.Emitted{Namespace: metrics.Namespace, Name: metrics.Name(name), Dimensions: slices.Sorted(slices.Values(dims))}.Key()
	}
	var out []string
	for _, w := range ws {
		if w.Search != nil {
			if k := key(string(w.Search.Metric), w.Search.Dimensions); len(byKey[k]) == 0 {
				out = append(out, fmt.Sprintf("%q searches %s, which nothing emits", w.Title, k))
			}
		}
		for _, s := range w.Series {
			if s.Namespace != metrics.Namespace {
				continue // AWS's own metrics: TestBodyReferencesTheStack
			}
			var dims []metrics.Dimension
			for _, d := range s.Dimensions {
				dims = append(dims, metrics.Dimension(d.Name))
			}
			k := key(s.Metric, dims)
			found := false
			for _, e := range byKey[k] {
				match := true
				for _, d := range s.Dimensions {
					match = match && e.Labels[metrics.Dimension(d.Name)] == d.Value
				}
				found = found || match
			}
			if !found {
				out = append(out, fmt.Sprintf("%q draws %s %v, which nothing emits", w.Title, k, s.Dimensions))
			}
		}
		if w.Query != nil {
			for _, f := range w.Query.Fields {
				switch {
				case !strings.Contains(w.Query.Text, f):
					out = append(out, fmt.Sprintf("%q lists field %s its query does not read", w.Title, f))
				case !emittedField(all, f):
					out = append(out, fmt.Sprintf("%q reads %s, which no EMF line holds", w.Title, f))
				}
			}
		}
	}
	return out
}

func emittedField(all []metrics.Emitted, field string) bool {
	for _, e := range all {
		if string(e.Name) == field || e.Labels[metrics.Dimension(field)] != "" {
			return true
		}
	}
	return false
}

// The list, in the dashboard: every outcome a run can have is drawn.
func TestRunsByOutcomeDrawsEveryOutcome(t *testing.T) {
	drawn := map[string]bool{}
	for _, w := range Widgets() {
		for _, s := range w.Series {
			if s.Metric == string(metrics.Runs) {
				drawn[s.Dimensions[0].Value] = true
			}
		}
	}
	for _, o := range reconcilefn.Outcomes {
		if !drawn[string(o)] {
			t.Errorf("outcome %s is not drawn", o)
		}
	}
}

func TestWidgetsFitTheGridWithoutOverlap(t *testing.T) {
	ws := Widgets()
	for i, a := range ws {
		if a.X < 0 || a.W < 1 || a.X+a.W > 24 || a.Y < 0 || a.H < 1 {
			t.Errorf("%q is off the 24-column grid", a.Title)
		}
		for _, b := range ws[i+1:] {
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("%q overlaps %q", a.Title, b.Title)
			}
		}
	}
}

var ref = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)(?:\.([A-Za-z]+))?\}`)

// Every ${…} in the body names a pseudo parameter or a resource of the
// template, of the type the widget expects, and the body is JSON once
// CloudFormation has filled them in.
func TestBodyReferencesTheStack(t *testing.T) {
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type string `yaml:"Type"`
		} `yaml:"Resources"`
		Outputs map[string]struct {
			Value yaml.Node `yaml:"Value"`
		} `yaml:"Outputs"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Resources["Dashboard"].Type != "AWS::CloudWatch::Dashboard" {
		t.Fatal("template.yaml has no Dashboard resource")
	}
	body, err := Body()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{"ReconcileLogGroup": "AWS::Logs::LogGroup", "TriggerDeadLetterQueue": "AWS::SQS::Queue", "FailureQueue": "AWS::SQS::Queue"}
	for _, m := range ref.FindAllStringSubmatch(body, -1) {
		name := m[1]
		if strings.HasPrefix(name, "AWS::") {
			continue
		}
		if got := doc.Resources[name].Type; got == "" || got != types[name] {
			t.Errorf("the body refers to %s, a %q in template.yaml (want %q)", m[0], got, types[name])
		}
	}
	filled := ref.ReplaceAllString(body, "x")
	if !json.Valid([]byte(filled)) {
		t.Errorf("the body is not JSON once substituted:\n%s", filled)
	}
	out := doc.Outputs["DashboardUrl"].Value
	if !strings.Contains(out.Value, "${Dashboard}") || !strings.Contains(out.Value, "#dashboards") {
		t.Errorf("no DashboardUrl output naming the dashboard: %q", out.Value)
	}
}
