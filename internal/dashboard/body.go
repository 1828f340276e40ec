package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
)

// Body is the dashboard body: CloudWatch's JSON, with ${…} references for
// CloudFormation's !Sub to fill in. One widget per line, so that a change
// to the dashboard reads as a change to its widget in a diff.
func Body() (string, error) {
	var b strings.Builder
	b.WriteString("{\"widgets\": [\n")
	ws := Widgets()
	for i, w := range ws {
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false) // the queries hold | and the labels %
		if err := enc.Encode(widgetJSON(w)); err != nil {
			return "", fmt.Errorf("dashboard widget %q: %w", w.Title, err)
		}
		b.WriteString("  " + strings.TrimSuffix(line.String(), "\n"))
		if i < len(ws)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	return b.String(), nil
}

// The body's shapes, as CloudWatch documents them: structs, so that the
// keys come in a reader's order (type and place first, then the title).
type widgetDoc struct {
	Type   string   `json:"type"`
	X      int      `json:"x"`
	Y      int      `json:"y"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Props  propsDoc `json:"properties"`
}

type propsDoc struct {
	Title       string          `json:"title"`
	Region      string          `json:"region"`
	View        string          `json:"view"`
	Query       string          `json:"query,omitempty"`
	Stacked     *bool           `json:"stacked,omitempty"`
	Period      int             `json:"period,omitempty"`
	Metrics     [][]any         `json:"metrics,omitempty"`
	Annotations *annotationsDoc `json:"annotations,omitempty"`
	YAxis       *yAxisDoc       `json:"yAxis,omitempty"`
}

type annotationsDoc struct {
	Horizontal []lineDoc `json:"horizontal"`
}

type lineDoc struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

type yAxisDoc struct {
	Left struct {
		Min *float64 `json:"min,omitempty"`
		Max *float64 `json:"max,omitempty"`
	} `json:"left"`
}

type renderDoc struct {
	Stat  string `json:"stat"`
	Label string `json:"label"`
}

type expressionDoc struct {
	Expression string `json:"expression"`
	ID         string `json:"id"`
}

func widgetJSON(w Widget) widgetDoc {
	d := widgetDoc{Type: "metric", X: w.X, Y: w.Y, Width: w.W, Height: w.H, Props: propsDoc{Title: w.Title, Region: "${AWS::Region}", View: "timeSeries"}}
	p := &d.Props
	if w.Query != nil {
		d.Type, p.View = "log", "table"
		p.Query = fmt.Sprintf("SOURCE '%s' | %s", w.Query.LogGroup, w.Query.Text)
		return d
	}
	p.Stacked, p.Period = &w.Stacked, w.Period
	if w.Search != nil {
		p.Metrics = append(p.Metrics, []any{expressionDoc{Expression: w.Search.Expression(w.Period), ID: "e1"}})
	}
	for _, s := range w.Series {
		row := []any{s.Namespace, s.Metric}
		for _, dim := range s.Dimensions {
			row = append(row, dim.Name, dim.Value)
		}
		p.Metrics = append(p.Metrics, append(row, renderDoc{Stat: s.Stat, Label: s.Label}))
	}
	if w.Line != nil {
		p.Annotations = &annotationsDoc{Horizontal: []lineDoc{{Label: w.Line.Label, Value: w.Line.Value}}}
	}
	if w.YMin != nil || w.YMax != nil {
		p.YAxis = &yAxisDoc{}
		p.YAxis.Left.Min, p.YAxis.Left.Max = w.YMin, w.YMax
	}
	return d
}

// Expression is the metric-math SEARCH that finds every dimension value.
func (s Search) Expression(period int) string {
	names := make([]string, len(s.Dimensions))
	for i, d := range s.Dimensions {
		names[i] = string(d)
	}
	return fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s"', '%s', %d)`, metrics.Namespace, strings.Join(names, ","), s.Metric, s.Stat, period)
}

// Begin and End enclose the generated resource in template.yaml.
const (
	Begin = "  # BEGIN dashboard: written by `make dashboard` from internal/dashboard; edit it there"
	End   = "  # END dashboard"
)

// Resource is the template's Dashboard resource, between Begin and End.
func Resource() (string, error) {
	body, err := Body()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(Begin + "\n")
	b.WriteString("  Dashboard:\n    Type: AWS::CloudWatch::Dashboard\n    Properties:\n")
	b.WriteString("      DashboardName: !Sub \"${AWS::StackName}\"\n")
	b.WriteString("      DashboardBody: !Sub |\n")
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		b.WriteString("        " + line + "\n")
	}
	b.WriteString(End + "\n")
	return b.String(), nil
}

// Splice replaces the generated block of a template with r.
func Splice(template, r string) (string, error) {
	i := strings.Index(template, Begin+"\n")
	j := strings.Index(template, End+"\n")
	if i < 0 || j < i {
		return "", fmt.Errorf("template.yaml has no %q … %q block", strings.TrimSpace(Begin), strings.TrimSpace(End))
	}
	return template[:i] + r + template[j+len(End)+1:], nil
}
