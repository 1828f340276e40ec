package gcptest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// schemas are a discovery document's schemas, with the small checker a
// discovery document needs (it is not OpenAPI): types, items, refs, enums,
// and no property the schema does not name.
type schemas map[string]*schema

type schema struct {
	Type                 string             `json:"type"`
	Ref                  string             `json:"$ref"`
	Properties           map[string]*schema `json:"properties"`
	Items                *schema            `json:"items"`
	AdditionalProperties *schema            `json:"additionalProperties"`
	Enum                 []string           `json:"enum"`
	Format               string             `json:"format"`
}

func loadSchemas(path string) (schemas, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	var doc struct {
		Schemas map[string]*schema `json:"schemas"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("discovery document %s: %w", path, err)
	}
	return doc.Schemas, nil
}

// check validates a JSON body against the named schema.
func (s schemas) check(name string, body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s: not JSON: %w", name, err)
	}
	sc, ok := s[name]
	if !ok {
		return fmt.Errorf("no schema %s", name)
	}
	return s.value(name, sc, v)
}

func (s schemas) value(at string, sc *schema, v any) error {
	if sc.Ref != "" {
		ref, ok := s[sc.Ref]
		if !ok {
			return fmt.Errorf("%s: no schema %s", at, sc.Ref)
		}
		sc = ref
	}
	if sc.Type == "" && sc.Properties != nil {
		sc.Type = "object"
	}
	switch sc.Type {
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: want a string, got %T", at, v)
		}
		if len(sc.Enum) > 0 && !slices.Contains(sc.Enum, str) {
			return fmt.Errorf("%s: %q is not one of %v", at, str, sc.Enum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: want a boolean, got %T", at, v)
		}
	case "integer", "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: want a number, got %T", at, v)
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want a list, got %T", at, v)
		}
		for i, e := range list {
			if err := s.value(fmt.Sprintf("%s[%d]", at, i), sc.Items, e); err != nil {
				return err
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", at, v)
		}
		for k, e := range obj {
			p, known := sc.Properties[k]
			switch {
			case known:
				if err := s.value(at+"."+k, p, e); err != nil {
					return err
				}
			case sc.AdditionalProperties != nil:
				if err := s.value(at+"."+k, sc.AdditionalProperties, e); err != nil {
					return err
				}
			case sc.Properties != nil:
				return fmt.Errorf("%s: unknown field %q", at, k)
			}
		}
	case "any", "":
	default:
		return fmt.Errorf("%s: schema type %q not understood", at, sc.Type)
	}
	return nil
}
