package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// noDuplicateKeys walks the document's tokens: encoding/json would keep the
// last of two equal keys without a word, and a guard written twice must not
// silently take the laxer value.
func noDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One frame per open object or array; seen is nil for an array.
	type frame struct {
		path    string // where this object or array is, e.g. "targets[].sources"
		seen    map[string]bool
		key     string // the key whose value comes next
		wantKey bool
	}
	var stack []*frame
	started := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && started && len(stack) == 0 {
			return errors.New("more than one document: something follows the config object")
		}
		if err != nil {
			return describeJSONError(err)
		}
		started = true
		child := ""
		if n := len(stack); n > 0 {
			top := stack[n-1]
			if top.seen != nil && top.wantKey {
				if tok == json.Delim('}') {
					stack = stack[:n-1]
					continue
				}
				k, _ := tok.(string) // the decoder only gives strings here
				if top.seen[k] {
					return fmt.Errorf("%s: key %q appears twice", strings.TrimPrefix(top.path+"."+k, "."), k)
				}
				top.seen[k], top.key, top.wantKey = true, k, false
				continue
			}
			if top.seen != nil {
				top.wantKey = true
				child = strings.TrimPrefix(top.path+"."+top.key, ".")
			} else {
				child = top.path + "[]"
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{path: child, seen: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: child})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// describeJSONError turns encoding/json's errors into ones that name the
// config key, without Go type names.
func describeJSONError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		want := typeErr.Type.Kind().String()
		switch want {
		case "int", "float64":
			want = "a number"
		case "slice":
			want = "a list"
		case "struct", "map":
			want = "an object"
		case "bool":
			want = "true or false"
		case "string":
			want = "a string"
		}
		return fmt.Errorf("%s: want %s, got a JSON %s", typeErr.Field, want, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("not valid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown key %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON document ends early")
	}
	return err
}
