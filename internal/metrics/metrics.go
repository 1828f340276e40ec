// Package metrics names the CloudWatch metrics the functions emit and writes
// them in Embedded Metric Format: one JSON line per directive on stdout,
// which CloudWatch Logs turns into metrics. The dashboard
// (internal/dashboard) is built from the same names.
package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "AtlasIpSync"

// Name is a metric's name.
type Name string

// The metrics.
const (
	// Per target (dimension Target).
	Addresses         Name = "Addresses"         // addresses the fence allows after the run
	Changes           Name = "Changes"           // addresses added plus removed
	PolicySizePercent Name = "PolicySizePercent" // size or count used, as a share of the kind's limit
	Succeeded         Name = "Succeeded"         // 1 when the target ended in sync or applied
	// Per run (no dimension, and dimension Outcome).
	Runs                 Name = "Runs"
	Refused              Name = "Refused"
	AtlasFetchLatency    Name = "AtlasFetchLatency"
	MaxPolicySizePercent Name = "MaxPolicySizePercent"
	// Per webhook request (dimension StatusCode).
	WebhookRequests Name = "WebhookRequests"
)

// Dimension is a dimension's name.
type Dimension string

// The dimensions.
const (
	Target     Dimension = "Target"
	Outcome    Dimension = "Outcome"
	StatusCode Dimension = "StatusCode"
)

// Unit is a CloudWatch unit.
type Unit string

// The units used.
const (
	Count        Unit = "Count"
	Percent      Unit = "Percent"
	Milliseconds Unit = "Milliseconds"
)

// Value is one metric's value in a line.
type Value struct {
	Name  Name
	Unit  Unit
	Value float64
}

// Line is one EMF log line: the values, published under each of the
// dimension sets (an empty set is the metric without dimensions).
type Line struct {
	Dimensions [][]Dimension
	Labels     map[Dimension]string
	Values     []Value
}

type directive struct {
	Namespace  string        `json:"Namespace"`
	Dimensions [][]Dimension `json:"Dimensions"`
	Metrics    []definition  `json:"Metrics"`
}

type definition struct {
	Name Name `json:"Name"`
	Unit Unit `json:"Unit"`
}

// Write writes l as one JSON line stamped at. A metric named like a
// dimension, or a dimension set naming an unlabelled dimension, is refused:
// both share the line's top-level keys.
func Write(w io.Writer, at time.Time, l Line) error {
	fields := make(map[string]any, len(l.Labels)+len(l.Values)+1)
	for d, v := range l.Labels {
		fields[string(d)] = v
	}
	d := directive{Namespace: Namespace, Dimensions: l.Dimensions, Metrics: make([]definition, 0, len(l.Values))}
	for _, set := range l.Dimensions {
		for _, dim := range set {
			if _, ok := l.Labels[dim]; !ok {
				return fmt.Errorf("emf line: dimension %s has no value", dim)
			}
		}
	}
	for _, v := range l.Values {
		if _, taken := fields[string(v.Name)]; taken {
			return fmt.Errorf("emf line: metric %s collides with another key", v.Name)
		}
		fields[string(v.Name)] = v.Value
		d.Metrics = append(d.Metrics, definition{v.Name, v.Unit})
	}
	fields["_aws"] = map[string]any{"Timestamp": at.UnixMilli(), "CloudWatchMetrics": []directive{d}}
	b, err := json.Marshal(fields)
	if err != nil {
		return fmt.Errorf("emf line: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write emf line: %w", err)
	}
	return nil
}
