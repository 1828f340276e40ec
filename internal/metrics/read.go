package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Emitted is one metric as CloudWatch would extract it from a line: its
// name, the dimension set it is published under, and the dimensions' values.
type Emitted struct {
	Namespace  string
	Name       Name
	Dimensions []Dimension // sorted
	Labels     map[Dimension]string
	Value      float64
	Unit       Unit
}

// Key names the metric and its dimension set, not the values.
func (e Emitted) Key() string {
	names := make([]string, len(e.Dimensions))
	for i, d := range e.Dimensions {
		names[i] = string(d)
	}
	return e.Namespace + "/" + string(e.Name) + "{" + strings.Join(names, ",") + "}"
}

// Read reads EMF lines the way CloudWatch Logs does: each directive's metrics
// under each of its dimension sets, values from the line's keys. A line that
// is not EMF is an error: the functions' stdout holds nothing else.
func Read(out []byte) ([]Emitted, error) {
	var all []Emitted
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, fmt.Errorf("emf line %q: %w", sc.Text(), err)
		}
		var env struct {
			Timestamp         *int64
			CloudWatchMetrics []directive
		}
		if err := json.Unmarshal(raw["_aws"], &env); err != nil || env.Timestamp == nil || len(env.CloudWatchMetrics) == 0 {
			return nil, fmt.Errorf("emf line %q: no _aws envelope", sc.Text())
		}
		for _, d := range env.CloudWatchMetrics {
			for _, set := range d.Dimensions {
				labels := map[Dimension]string{}
				for _, dim := range set {
					var v string
					if err := json.Unmarshal(raw[string(dim)], &v); err != nil {
						return nil, fmt.Errorf("emf line %q: dimension %s is not a string", sc.Text(), dim)
					}
					labels[dim] = v
				}
				for _, m := range d.Metrics {
					var v float64
					if err := json.Unmarshal(raw[string(m.Name)], &v); err != nil {
						return nil, fmt.Errorf("emf line %q: metric %s is not a number", sc.Text(), m.Name)
					}
					dims := slices.Clone(set)
					slices.Sort(dims)
					all = append(all, Emitted{Namespace: d.Namespace, Name: m.Name, Dimensions: dims, Labels: labels, Value: v, Unit: m.Unit})
				}
			}
		}
	}
	return all, sc.Err()
}
