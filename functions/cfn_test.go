package functions_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// cfn resolves the intrinsic functions of a translated (plain
// CloudFormation) template for sample values: Ref, Fn::Sub, Fn::GetAtt,
// Fn::Join, Fn::If, Fn::Split, Fn::Select and the condition functions.
// It is the test's own small CloudFormation, enough for the roles and the
// environment the template gives the functions.
type cfn struct {
	params map[string]any    // a string, or []string for a CommaDelimitedList
	refs   map[string]string // a resource's Ref value, by logical id
	attrs  map[string]string // "LogicalId.Attribute" → value
	conds  map[string]any    // the template's Conditions, resolved on first use
	done   map[string]bool
}

// noValue stands for AWS::NoValue until its container drops it.
type noValue struct{}

var pseudo = map[string]string{"AWS::Partition": "aws", "AWS::AccountId": "123456789012", "AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com"}

func (c *cfn) ref(name string) (any, error) {
	switch {
	case name == "AWS::NoValue":
		return noValue{}, nil
	case pseudo[name] != "":
		return pseudo[name], nil
	}
	if v, ok := c.params[name]; ok {
		return v, nil
	}
	if v, ok := c.refs[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("Ref %s: no sample value", name)
}

func (c *cfn) condition(name string) (bool, error) {
	if v, ok := c.done[name]; ok {
		return v, nil
	}
	raw, ok := c.conds[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not in the template", name)
	}
	v, err := c.resolve(raw)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is %v, not a boolean", name, v)
	}
	c.done[name] = b
	return b, nil
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (c *cfn) sub(text string, vars map[string]any) (string, error) {
	var err error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		if x, ok := vars[name]; ok {
			v, err = c.resolve(x)
		} else if res, attr, ok := strings.Cut(name, "."); ok && c.refs[res] != "" {
			v, err = c.attr(res, attr)
		} else {
			v, err = c.ref(name)
		}
		s, ok := v.(string)
		if err == nil && !ok {
			err = fmt.Errorf("Fn::Sub ${%s} is %v, not a string", name, v)
		}
		return s
	})
	return out, err
}

func (c *cfn) attr(res, attr string) (string, error) {
	v, ok := c.attrs[res+"."+attr]
	if !ok {
		return "", fmt.Errorf("Fn::GetAtt %s.%s: no sample value", res, attr)
	}
	return v, nil
}

func strs(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("list item %v is not a string", e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not a list", v)
}

// resolve returns v with every intrinsic function evaluated.
func (c *cfn) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, e := range x {
			r, err := c.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return c.fn(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			r, err := c.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (c *cfn) fn(name string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch name {
	case "Ref":
		return c.ref(arg.(string))
	case "Condition":
		return c.condition(arg.(string))
	case "Fn::GetAtt":
		if s, ok := arg.(string); ok {
			args = []any{}
			for _, p := range strings.SplitN(s, ".", 2) {
				args = append(args, p)
			}
		}
		return c.attr(args[0].(string), args[1].(string))
	case "Fn::Sub":
		if s, ok := arg.(string); ok {
			return c.sub(s, nil)
		}
		return c.sub(args[0].(string), args[1].(map[string]any))
	case "Fn::If":
		ok, err := c.condition(args[0].(string))
		if err != nil {
			return nil, err
		}
		if ok {
			return c.resolve(args[1])
		}
		return c.resolve(args[2])
	}
	// The rest take resolved arguments.
	r, err := c.resolve(arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	args, _ = r.([]any)
	switch name {
	case "Fn::Join":
		items, err := strs(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		return strings.Join(items, args[0].(string)), nil
	case "Fn::Split":
		var out []any
		for _, p := range strings.Split(args[1].(string), args[0].(string)) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		items, err := strs(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: %w", err)
		}
		var i int
		if _, err := fmt.Sscan(fmt.Sprint(args[0]), &i); err != nil || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("Fn::Select index %v of %d items", args[0], len(items))
		}
		return items[i], nil
	case "Fn::Equals":
		return reflect.DeepEqual(norm(args[0]), norm(args[1])), nil
	case "Fn::Not":
		b, ok := args[0].(bool)
		if !ok {
			return nil, fmt.Errorf("Fn::Not of %v", args[0])
		}
		return !b, nil
	case "Fn::And", "Fn::Or":
		all, any_ := true, false
		for _, a := range args {
			b, ok := a.(bool)
			if !ok {
				return nil, fmt.Errorf("%s of %v", name, a)
			}
			all, any_ = all && b, any_ || b
		}
		if name == "Fn::And" {
			return all, nil
		}
		return any_, nil
	}
	return nil, fmt.Errorf("%s is not supported by the test's resolver", name)
}

// norm makes a []string and its []any form compare equal.
func norm(v any) any {
	if s, err := strs(v); err == nil {
		return s
	}
	return v
}

func TestResolver(t *testing.T) {
	c := &cfn{
		params: map[string]any{"Ids": []string{"a", "b"}, "Name": "n", "Empty": ""},
		refs:   map[string]string{"Bucket": "bkt"},
		attrs:  map[string]string{"Bucket.Arn": "arn:aws:s3:::bkt"},
		conds: map[string]any{
			"HasName": map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Name"}, ""}}}},
			"NoEmpty": map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Empty"}, "x"}},
			"Both":    map[string]any{"Fn::And": []any{map[string]any{"Condition": "HasName"}, map[string]any{"Condition": "NoEmpty"}}},
		},
		done: map[string]bool{},
	}
	for _, tc := range []struct{ in, want string }{
		{`{"Fn::Sub":"${Bucket.Arn}/ipsync/*"}`, `"arn:aws:s3:::bkt/ipsync/*"`},
		{`{"Fn::Sub":["x-${V}-${AWS::AccountId}",{"V":{"Ref":"Name"}}]}`, `"x-n-123456789012"`},
		{`{"Fn::Join":[",",{"Ref":"Ids"}]}`, `"a,b"`},
		{`{"Fn::Split":[",",{"Fn::Join":["",["p/",{"Fn::Join":[",p/",{"Ref":"Ids"}]}]]}]}`, `["p/a","p/b"]`},
		{`{"Fn::Select":[1,{"Ref":"Ids"}]}`, `"b"`},
		{`[{"Fn::If":["HasName","yes",{"Ref":"AWS::NoValue"}]},{"Fn::If":["Both","both",{"Ref":"AWS::NoValue"}]}]`, `["yes"]`},
		{`{"Fn::GetAtt":["Bucket","Arn"]}`, `"arn:aws:s3:::bkt"`},
	} {
		var in any
		if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
			t.Fatal(err)
		}
		got, err := c.resolve(in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if b, _ := json.Marshal(got); string(b) != tc.want {
			t.Errorf("%s = %s, want %s", tc.in, b, tc.want)
		}
	}
	if _, err := c.resolve(map[string]any{"Ref": "Missing"}); err == nil {
		t.Error("a Ref with no sample value resolved")
	}
}
