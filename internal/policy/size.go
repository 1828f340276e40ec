package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Limit is a service's maximum policy size.
type Limit struct {
	Name  string // for messages: "KMS key policy"
	Max   int
	Chars bool // counted in characters, not bytes
	// NoSpace: white space outside strings is not counted (IAM). White
	// space inside strings is, which can only overstate the size.
	NoSpace bool
}

// Unit names what Size counts.
func (l Limit) Unit() string {
	if l.Chars {
		return "characters"
	}
	return "bytes"
}

// Size measures a document as the service does.
func (l Limit) Size(doc []byte) int {
	if l.NoSpace {
		n, inString, escaped := 0, false, false
		for _, r := range string(doc) {
			switch {
			case inString && escaped:
				escaped = false
			case inString && r == '\\':
				escaped = true
			case r == '"':
				inString = !inString
			case !inString && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
				continue
			}
			n++
		}
		return n
	}
	if l.Chars {
		return utf8.RuneCount(doc)
	}
	return len(doc)
}

// Rendered is a document in the form that will be written.
type Rendered struct {
	Text []byte
	Form string // "indented" or "compact"
	Size int    // in the limit's unit
}

// SizeError is a document that does not fit even compact.
type SizeError struct {
	Limit   Limit
	Compact int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("the %s would be %d %s even compact; the limit is %d", e.Limit.Name, e.Compact, e.Limit.Unit(), e.Limit.Max)
}

// Render returns the document indented when that fits the limit, compact
// when only that fits, and a *SizeError when neither does.
func Render(compact []byte, l Limit) (Rendered, error) {
	n := l.Size(compact)
	if n > l.Max {
		// Indenting only adds characters: no need to try it.
		return Rendered{}, &SizeError{Limit: l, Compact: n}
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, compact, "", "  "); err != nil {
		return Rendered{}, fmt.Errorf("render policy: %w", err)
	}
	if m := l.Size(ind.Bytes()); m <= l.Max {
		return Rendered{Text: ind.Bytes(), Form: "indented", Size: m}, nil
	}
	return Rendered{Text: compact, Form: "compact", Size: n}, nil
}
