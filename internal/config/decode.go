package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// The config is read in one pass over encoding/json's tokens, each key
// mapped to its field below, without reflection. encoding/json's reflective
// Decode built its type caches on every cold start, most of what Parse cost
// in a fresh process (issue 6; BENCHMARKS.md). Being hand-mapped, it is also
// stricter than encoding/json:
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
// document leaves out, or sets to null, keep them. Each object is read by a
// switch over its keys, so reading allocates little beyond the values.
func decode(data []byte, c *Config) error {
	r := &reader{dec: json.NewDecoder(bytes.NewReader(data))}
	r.dec.UseNumber()
	err := r.object("", func(path, key string) error {
		switch key {
		case "atlas":
			return r.atlas(path, &c.Atlas)
		case "snapshot":
			return r.object(path, func(path, key string) error {
				if key == "url" {
					return r.str(path, &c.Snapshot.URL)
				}
				return unknownKey(path)
			})
		case "notify":
			return r.object(path, func(path, key string) error {
				if key == "topicArn" {
					return r.str(path, &c.Notify.TopicArn)
				}
				return unknownKey(path)
			})
		case "trigger":
			return r.object(path, func(path, key string) error {
				if key == "queueUrl" {
					return r.str(path, &c.Trigger.QueueURL)
				}
				return unknownKey(path)
			})
		case "webhook":
			return r.webhook(path, &c.Webhook)
		case "guards":
			return r.guards(path, &c.Guards)
		case "verify":
			return r.object(path, func(path, key string) error {
				switch key {
				case "window":
					return r.duration(path, &c.Verify.Window)
				case "interval":
					return r.duration(path, &c.Verify.Interval)
				}
				return unknownKey(path)
			})
		case "gcp":
			return r.object(path, func(path, key string) error {
				switch key {
				case "credentials":
					return r.object(path, func(path, key string) error {
						if key == "secretId" {
							return r.str(path, &c.GCP.Credentials.SecretID)
						}
						return unknownKey(path)
					})
				case "endpoint":
					return r.str(path, &c.GCP.Endpoint)
				}
				return unknownKey(path)
			})
		case "azure":
			return r.azure(path, &c.Azure)
		case "targetDefaults":
			return r.object(path, func(path, typ string) error {
				var d TargetDefault
				err := r.targetDefault(path, &d)
				if c.TargetDefaults == nil {
					c.TargetDefaults = map[TargetType]TargetDefault{}
				}
				c.TargetDefaults[TargetType(typ)] = d
				return err
			})
		case "targets":
			return r.list(path, func(path string) error {
				var t Target
				err := r.target(path, &t)
				c.Targets = append(c.Targets, t)
				return err
			})
		}
		return unknownKey(path)
	})
	if err != nil {
		return err
	}
	if _, err := r.dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one document: something follows the config object")
	}
	return nil
}

func (r *reader) atlas(path string, a *Atlas) error {
	return r.object(path, func(path, key string) error {
		switch key {
		case "baseURL":
			return r.str(path, &a.BaseURL)
		case "credentials":
			return r.object(path, func(path, key string) error {
				if key == "secretId" {
					return r.str(path, &a.Credentials.SecretID)
				}
				return unknownKey(path)
			})
		case "projects":
			return r.strs(path, &a.Projects)
		case "concurrency":
			return r.int(path, &a.Concurrency)
		}
		return unknownKey(path)
	})
}

func (r *reader) webhook(path string, w *Webhook) error {
	return r.object(path, func(path, key string) error {
		switch key {
		case "secretId":
			return r.str(path, &w.SecretID)
		case "eventTypes":
			return r.strs(path, &w.EventTypes)
		case "checkSource":
			return r.bool(path, &w.CheckSource)
		}
		return unknownKey(path)
	})
}

func (r *reader) azure(path string, a *Azure) error {
	return r.object(path, func(path, key string) error {
		switch key {
		case "tenantId":
			return r.str(path, &a.TenantID)
		case "clientId":
			return r.str(path, &a.ClientID)
		case "credentials":
			return r.object(path, func(path, key string) error {
				if key == "secretId" {
					return r.str(path, &a.Credentials.SecretID)
				}
				return unknownKey(path)
			})
		case "federation":
			a.Federation = &Federation{}
			return r.object(path, func(path, key string) error {
				if key == "audience" {
					return r.str(path, &a.Federation.Audience)
				}
				return unknownKey(path)
			})
		case "authorityURL":
			return r.str(path, &a.AuthorityURL)
		case "managementURL":
			return r.str(path, &a.ManagementURL)
		}
		return unknownKey(path)
	})
}

func (r *reader) guards(path string, g *Guards) error {
	return r.object(path, func(path, key string) error {
		switch key {
		case "minAddresses":
			return r.int(path, &g.MinAddresses)
		case "maxRemovePercent":
			return r.float(path, &g.MaxRemovePercent)
		case "removalGrace":
			return r.duration(path, &g.RemovalGrace)
		case "widestPrefix":
			return r.object(path, func(path, key string) error {
				switch key {
				case "ipv4":
					return r.int(path, &g.WidestPrefix.IPv4)
				case "ipv6":
					return r.int(path, &g.WidestPrefix.IPv6)
				}
				return unknownKey(path)
			})
		}
		return unknownKey(path)
	})
}

func (r *reader) targetDefault(path string, d *TargetDefault) error {
	return r.object(path, func(path, key string) error {
		switch key {
		case "sid":
			return r.str(path, &d.Sid)
		case "sources":
			return r.sources(path, &d.Sources)
		case "encryptionAtRestProjects":
			return r.strs(path, &d.EncryptionAtRestProjects)
		case "roleArn":
			return r.str(path, &d.RoleArn)
		case "externalId":
			return r.str(path, &d.ExternalID)
		case "direction":
			return r.str(path, &d.Direction)
		case "protocol":
			return r.str(path, &d.Protocol)
		case "ports":
			return r.str(path, &d.Ports)
		case "maxRules":
			return r.int(path, &d.MaxRules)
		}
		return unknownKey(path)
	})
}

func (r *reader) target(path string, t *Target) error {
	return r.object(path, func(path, key string) error {
		switch key {
		case "name":
			return r.str(path, &t.Name)
		case "type":
			var typ string
			err := r.str(path, &typ)
			t.Type = TargetType(typ)
			return err
		case "resource":
			return r.str(path, &t.Resource)
		case "sid":
			return r.str(path, &t.Sid)
		case "sources":
			return r.sources(path, &t.Sources)
		case "static":
			return r.strs(path, &t.Static)
		case "encryptionAtRestProjects":
			return r.strs(path, &t.EncryptionAtRestProjects)
		case "roleArn":
			return r.str(path, &t.RoleArn)
		case "externalId":
			return r.str(path, &t.ExternalID)
		case "direction":
			return r.str(path, &t.Direction)
		case "protocol":
			return r.str(path, &t.Protocol)
		case "ports":
			return r.str(path, &t.Ports)
		case "maxRules":
			return r.int(path, &t.MaxRules)
		}
		return unknownKey(path)
	})
}

// reader reads values off encoding/json's token stream; each method reads
// the next value, which sits at path.
type reader struct{ dec *json.Decoder }

func unknownKey(path string) error { return &KeyError{Path: path, Err: errUnknownKey} }

// next reads the next token; nil is JSON null.
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

func wrongType(path, want string, tok json.Token) error {
	return &KeyError{Path: path, Err: fmt.Errorf("want %s, got a JSON %s", want, kindOf(tok))}
}

// scalar reads the next value into dst when it is a T (string, bool or,
// for numbers, json.Number) and reports whether it read one: null leaves
// dst as it is.
func scalar[T any](r *reader, path, want string, dst *T) (bool, error) {
	tok, err := r.next()
	if err != nil || tok == nil {
		return false, err
	}
	v, ok := tok.(T)
	if !ok {
		return false, wrongType(path, want, tok)
	}
	*dst = v
	return true, nil
}

func (r *reader) str(path string, dst *string) error {
	_, err := scalar(r, path, "a string", dst)
	return err
}

func (r *reader) bool(path string, dst *bool) error {
	_, err := scalar(r, path, "true or false", dst)
	return err
}

func (r *reader) int(path string, dst *int) error {
	var n json.Number
	if set, err := scalar(r, path, "a number", &n); !set {
		return err
	}
	v, err := strconv.Atoi(string(n))
	if err != nil {
		return &KeyError{Path: path, Err: fmt.Errorf("want a whole number, got %s", n)}
	}
	*dst = v
	return nil
}

func (r *reader) float(path string, dst *float64) error {
	var n json.Number
	if set, err := scalar(r, path, "a number", &n); !set {
		return err
	}
	v, err := n.Float64()
	if err != nil {
		return &KeyError{Path: path, Err: fmt.Errorf("%s is out of range", n)}
	}
	*dst = v
	return nil
}

// text reads a string and turns it into dst with parse; null reads nothing.
func text[T any](r *reader, path, want string, dst *T, parse func(string) (T, error)) error {
	var s string
	if set, err := scalar(r, path, want, &s); !set {
		return err
	}
	v, err := parse(s)
	if err != nil {
		return &KeyError{Path: path, Err: err}
	}
	*dst = v
	return nil
}

func (r *reader) duration(path string, dst *Duration) error {
	return text(r, path, "a duration such as 24h", dst, func(s string) (Duration, error) {
		v, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 24h or 90m", s)
		}
		return Duration(v), nil
	})
}

func (r *reader) strs(path string, dst *[]string) error {
	return r.list(path, func(path string) error {
		var s string
		err := r.str(path, &s)
		*dst = append(*dst, s)
		return err
	})
}

func (r *reader) sources(path string, dst *[]Source) error {
	return r.list(path, func(path string) error {
		var v Source
		err := text(r, path, "a source such as control-plane-outbound", &v, ParseSource)
		*dst = append(*dst, v)
		return err
	})
}

// list reads a JSON array, each element with item; null reads nothing.
func (r *reader) list(path string, item func(path string) error) error {
	tok, err := r.next()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('[') {
		return wrongType(path, "a list", tok)
	}
	for i := 0; r.dec.More(); i++ {
		if err := item(path + "[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	_, err = r.next() // ]
	return err
}

// object reads a JSON object, each member with member, which returns
// unknownKey for a key it does not know; null reads nothing. A key may
// appear once.
func (r *reader) object(path string, member func(path, key string) error) error {
	tok, err := r.next()
	if err != nil || tok == nil {
		return err
	}
	if tok != json.Delim('{') {
		return wrongType(path, "an object", tok)
	}
	var seen []string // a handful of keys: a slice beats a map
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
		if slices.Contains(seen, key) {
			return &KeyError{Path: at, Err: fmt.Errorf("key %q appears twice", key)}
		}
		seen = append(seen, key)
		if err := member(at, key); err != nil {
			return err
		}
	}
	_, err = r.next() // }
	return err
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
