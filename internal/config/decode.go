package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// The config is read in one pass over encoding/json's tokens, each key
// mapped to its field below, without reflection. encoding/json's reflective
// Decode built its type caches on every cold start: 0.43 ms of the 0.56 ms
// Parse took in a fresh process, against 0.07 ms for the token walk alone
// (issue 6). Being hand-mapped, it is also stricter than encoding/json:
// keys match exactly, each key appears once, unknown keys are errors.
// TestDecodeReadsEveryField fails when a field is added to Config and not
// here.

// KeyError is a problem with the value at one place in the document, named
// as "guards.minAddresses" or "targets[0].sources[1]".
type KeyError struct {
	Path string
	Err  error
}

func (e *KeyError) Error() string {
	if errors.Is(e.Err, errUnknownKey) {
		return fmt.Sprintf("unknown key %q", e.Path)
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

var errUnknownKey = errors.New("unknown key")

// decode reads the document into c, which holds the defaults: keys the
// document leaves out, or sets to null, keep them.
func decode(data []byte, c *Config) error {
	r := &reader{dec: json.NewDecoder(bytes.NewReader(data))}
	r.dec.UseNumber()
	if err := r.fields(map[string]value{
		"atlas": r.fields(map[string]value{
			"baseURL":     r.str(&c.Atlas.BaseURL),
			"credentials": r.fields(map[string]value{"secretId": r.str(&c.Atlas.Credentials.SecretID)}),
			"projects":    r.strs(&c.Atlas.Projects),
			"concurrency": r.int(&c.Atlas.Concurrency),
		}),
		"snapshot": r.fields(map[string]value{"url": r.str(&c.Snapshot.URL)}),
		"notify":   r.fields(map[string]value{"topicArn": r.str(&c.Notify.TopicArn)}),
		"trigger":  r.fields(map[string]value{"queueUrl": r.str(&c.Trigger.QueueURL)}),
		"webhook": r.fields(map[string]value{
			"secretId":    r.str(&c.Webhook.SecretID),
			"eventTypes":  r.strs(&c.Webhook.EventTypes),
			"checkSource": r.bool(&c.Webhook.CheckSource),
		}),
		"guards": r.fields(map[string]value{
			"minAddresses":     r.int(&c.Guards.MinAddresses),
			"maxRemovePercent": r.float(&c.Guards.MaxRemovePercent),
			"removalGrace":     r.duration(&c.Guards.RemovalGrace),
		}),
		"verify": r.fields(map[string]value{
			"window":   r.duration(&c.Verify.Window),
			"interval": r.duration(&c.Verify.Interval),
		}),
		"targetDefaults": r.targetDefaults(&c.TargetDefaults),
		"targets":        r.targets(&c.Targets),
	})(""); err != nil {
		return err
	}
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one document: something follows the config object")
	}
	return nil
}

func (r *reader) targetDefaults(dst *map[string]TargetDefault) value {
	return r.object(func(path, typ string) error {
		var d TargetDefault
		err := r.fields(map[string]value{
			"sid":                      r.str(&d.Sid),
			"sources":                  r.sources(&d.Sources),
			"encryptionAtRestProjects": r.strs(&d.EncryptionAtRestProjects),
			"roleArn":                  r.str(&d.RoleArn),
			"externalId":               r.str(&d.ExternalID),
		})(path)
		if *dst == nil {
			*dst = map[string]TargetDefault{}
		}
		(*dst)[typ] = d
		return err
	})
}

func (r *reader) targets(dst *[]Target) value {
	return r.list(func(path string) error {
		var t Target
		err := r.fields(map[string]value{
			"name":                     r.str(&t.Name),
			"type":                     r.str(&t.Type),
			"resource":                 r.str(&t.Resource),
			"sid":                      r.str(&t.Sid),
			"sources":                  r.sources(&t.Sources),
			"static":                   r.strs(&t.Static),
			"encryptionAtRestProjects": r.strs(&t.EncryptionAtRestProjects),
			"roleArn":                  r.str(&t.RoleArn),
			"externalId":               r.str(&t.ExternalID),
		})(path)
		*dst = append(*dst, t)
		return err
	})
}

// reader hands out the readers of each kind of value; value reads the
// next value in the document, which sits at path.
type reader struct{ dec *json.Decoder }

type value func(path string) error

// next reads the next token of a value or object; nil is JSON null.
func (r *reader) next() (json.Token, error) {
	tok, err := r.dec.Token()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errors.New("the JSON document ends early")
	}
	if err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("not valid JSON at byte %d: %v", syntax.Offset, syntax)
		}
		return nil, err
	}
	return tok, nil
}

// scalar reads a string, number or boolean into set; null sets nothing.
func (r *reader) scalar(want string, set func(json.Token) (bool, error)) value {
	return func(path string) error {
		tok, err := r.next()
		if err != nil || tok == nil {
			return err
		}
		ok, err := set(tok)
		if err != nil {
			return &KeyError{Path: path, Err: err}
		}
		if !ok {
			return &KeyError{Path: path, Err: fmt.Errorf("want %s, got a JSON %s", want, kindOf(tok))}
		}
		return nil
	}
}

func (r *reader) str(dst *string) value {
	return r.scalar("a string", func(tok json.Token) (bool, error) {
		s, ok := tok.(string)
		if ok {
			*dst = s
		}
		return ok, nil
	})
}

func (r *reader) bool(dst *bool) value {
	return r.scalar("true or false", func(tok json.Token) (bool, error) {
		b, ok := tok.(bool)
		if ok {
			*dst = b
		}
		return ok, nil
	})
}

func (r *reader) int(dst *int) value {
	return r.scalar("a number", func(tok json.Token) (bool, error) {
		n, ok := tok.(json.Number)
		if !ok {
			return false, nil
		}
		v, err := strconv.Atoi(string(n))
		if err != nil {
			return true, fmt.Errorf("want a whole number, got %s", n)
		}
		*dst = v
		return true, nil
	})
}

func (r *reader) float(dst *float64) value {
	return r.scalar("a number", func(tok json.Token) (bool, error) {
		n, ok := tok.(json.Number)
		if !ok {
			return false, nil
		}
		v, err := n.Float64()
		if err != nil {
			return true, fmt.Errorf("%s is out of range", n)
		}
		*dst = v
		return true, nil
	})
}

func (r *reader) duration(dst *Duration) value {
	return r.scalar("a duration such as 24h", func(tok json.Token) (bool, error) {
		s, ok := tok.(string)
		if !ok {
			return false, nil
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return true, fmt.Errorf("%q is not a duration such as 24h or 90m", s)
		}
		*dst = Duration(v)
		return true, nil
	})
}

func (r *reader) source(dst *Source) value {
	return r.scalar("a source such as control-plane-outbound", func(tok json.Token) (bool, error) {
		s, ok := tok.(string)
		if !ok {
			return false, nil
		}
		v, err := ParseSource(s)
		*dst = v
		return true, err
	})
}

func (r *reader) strs(dst *[]string) value {
	return r.list(func(path string) error {
		var s string
		err := r.str(&s)(path)
		*dst = append(*dst, s)
		return err
	})
}

func (r *reader) sources(dst *[]Source) value {
	return r.list(func(path string) error {
		var s Source
		err := r.source(&s)(path)
		*dst = append(*dst, s)
		return err
	})
}

// list reads a JSON array, each element with item; null reads nothing.
func (r *reader) list(item value) value {
	return func(path string) error {
		tok, err := r.next()
		if err != nil || tok == nil {
			return err
		}
		if tok != json.Delim('[') {
			return &KeyError{Path: path, Err: fmt.Errorf("want a list, got a JSON %s", kindOf(tok))}
		}
		for i := 0; r.dec.More(); i++ {
			if err := item(path + "[" + strconv.Itoa(i) + "]"); err != nil {
				return err
			}
		}
		_, err = r.next() // ]
		return err
	}
}

// object reads a JSON object, each member with member; null reads nothing.
// A key may appear once.
func (r *reader) object(member func(path, key string) error) value {
	return func(path string) error {
		tok, err := r.next()
		if err != nil || tok == nil {
			return err
		}
		if tok != json.Delim('{') {
			return &KeyError{Path: path, Err: fmt.Errorf("want an object, got a JSON %s", kindOf(tok))}
		}
		seen := map[string]bool{}
		for r.dec.More() {
			tok, err := r.next()
			if err != nil {
				return err
			}
			key, _ := tok.(string) // the decoder gives only strings here
			at := key
			if path != "" {
				at = path + "." + key
			}
			if seen[key] {
				return &KeyError{Path: at, Err: fmt.Errorf("key %q appears twice", key)}
			}
			seen[key] = true
			if err := member(at, key); err != nil {
				return err
			}
		}
		_, err = r.next() // }
		return err
	}
}

// fields reads an object whose keys are known: each to its own value.
func (r *reader) fields(known map[string]value) value {
	return r.object(func(path, key string) error {
		read, ok := known[key]
		if !ok {
			return &KeyError{Path: path, Err: errUnknownKey}
		}
		return read(path)
	})
}

func kindOf(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "object"
	case json.Delim('['):
		return "list"
	}
	switch tok.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return "number"
}
