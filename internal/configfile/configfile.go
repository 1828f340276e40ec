// Package configfile reads the ipsync config as a user writes it: YAML or
// JSON (docs/design.md "Config"). YAML is turned into JSON and parsed by
// config.Parse, so both formats obey one set of rules; the Lambda functions
// read IPSYNC_CONFIG with config.Parse directly and never link a YAML parser.
package configfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
)

// Load reads and parses the config file at path.
func Load(path string) (*config.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a YAML or JSON config.
func Parse(data []byte) (*config.Config, error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		if c, err := config.Parse(t); err == nil || json.Valid(t) {
			return c, err
		}
		// Not JSON after all: YAML's flow style ({a: b}) starts the same way.
	}
	doc, err := ToJSON(data)
	if err != nil {
		return nil, err
	}
	c, err := config.Parse(doc.JSON)
	if err != nil {
		return nil, doc.withLine(err)
	}
	return c, nil
}

// Doc is a YAML config turned into JSON, with where each key was written.
type Doc struct {
	JSON  []byte
	lines map[string]int // key → line of its first occurrence
}

// ToJSON turns one YAML document into JSON. Scalars keep the text written
// (an unquoted date stays the string it was); numbers and booleans stay
// numbers and booleans, so a number where a string belongs is an error.
func ToJSON(data []byte) (Doc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Doc{}, errors.New("config: empty document")
		}
		return Doc{}, fmt.Errorf("config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Doc{}, errors.New("config: more than one document")
	}
	d := Doc{lines: map[string]int{}}
	v, err := d.value(&root)
	if err != nil {
		return Doc{}, fmt.Errorf("config: %w", err)
	}
	if v == nil {
		return Doc{}, errors.New("config: empty document")
	}
	if d.JSON, err = json.Marshal(v); err != nil {
		return Doc{}, fmt.Errorf("config: %w", err)
	}
	return d, nil
}

func (d *Doc) value(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.value(n.Content[0])
	case yaml.AliasNode:
		return d.value(n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		first := map[string]int{} // key → line, in this mapping
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a plain string", k.Line)
			}
			if k.Value == "<<" {
				return nil, fmt.Errorf("line %d: merge keys (<<) are not supported", k.Line)
			}
			// yaml.v3 keeps both in a node; JSON would keep the last, and a
			// guard written twice must not silently take the laxer value.
			if line, ok := first[k.Value]; ok {
				return nil, fmt.Errorf("line %d: key %q appears twice (first on line %d)", k.Line, k.Value, line)
			}
			first[k.Value] = k.Line
			val, err := d.value(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
			if _, ok := d.lines[k.Value]; !ok {
				d.lines[k.Value] = k.Line
			}
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.value(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %q is not a finite number", n.Line, n.Value)
		}
		return f, nil
	}
	return n.Value, nil
}

// withLine adds the line of the key an error names, if it has one.
// Validation errors name their keys already.
func (d Doc) withLine(err error) error {
	var keyErr *config.KeyError
	if !errors.As(err, &keyErr) {
		return err
	}
	key := keyErr.Path[strings.LastIndexByte(keyErr.Path, '.')+1:]
	key, _, _ = strings.Cut(key, "[") // sources[1] is on the line of sources
	if line, ok := d.lines[key]; ok {
		return fmt.Errorf("%w (line %d)", err, line)
	}
	return err
}
