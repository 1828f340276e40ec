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
	// Entries: the size is the number of entries (an Atlas access list
	// presented as a document): every value of every statement's IP
	// condition, and every security group.
	Entries bool
}

// The service limits (docs/design.md "Ownership"); moto does not enforce them, we do.
var (
	KMSKeyPolicy      = Limit{Name: "KMS key policy", Max: 32768}
	VPCEndpointPolicy = Limit{Name: "VPC endpoint policy", Max: 20480, Chars: true}
	// IAMRolePolicies is shared by all inline policies of one role.
	IAMRolePolicies = Limit{Name: "IAM role's inline policies (all of them together)", Max: 10240, Chars: true, NoSpace: true}
	// AtlasAccessList is Atlas's limit of entries per project access list.
	AtlasAccessList = Limit{Name: "Atlas project IP access list", Max: 200, Entries: true}
)

// Unit names what Size counts.
func (l Limit) Unit() string {
	switch {
	case l.Entries:
		return "entries"
	case l.Chars:
		return "characters"
	}
	return "bytes"
}

// Size measures a document as the service does.
func (l Limit) Size(doc []byte) int {
	if l.Entries {
		return entries(doc)
	}
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
	Form string // "indented" or "compact"; empty for an access list
	Size int    // in the limit's unit
}

// SizeError is a document that does not fit even compact.
type SizeError struct {
	Limit   Limit
	Compact int
}

func (e *SizeError) Error() string {
	unit := e.Limit.Unit()
	if e.Limit.Entries {
		return fmt.Sprintf("the %s would hold %d entries; the limit is %d", e.Limit.Name, e.Compact, e.Limit.Max)
	}
	return fmt.Sprintf("the %s would be %d %s even compact; the limit is %d", e.Limit.Name, e.Compact, unit, e.Limit.Max)
}

// Render returns the document indented when that fits the limit, compact
// when only that fits, and a *SizeError when neither does. An entry-counted
// document (an access list) comes back as it is, with no form.
func Render(compact []byte, l Limit) (Rendered, error) {
	n := l.Size(compact)
	if n > l.Max {
		// Indenting only adds characters: no need to try it.
		return Rendered{}, &SizeError{Limit: l, Compact: n}
	}
	if l.Entries {
		// An access list is written entry by entry: the document's form
		// means nothing there.
		return Rendered{Text: compact, Size: n}, nil
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

// entries counts the values of every statement's IP conditions and its
// SecurityGroups; a document that does not parse counts as over any limit.
func entries(doc []byte) int {
	var d struct {
		Statement []struct {
			Condition      map[string]map[string]json.RawMessage
			SecurityGroups []string
		}
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return 1 << 30
	}
	n := 0
	for _, st := range d.Statement {
		n += len(st.SecurityGroups)
		for _, body := range st.Condition {
			for _, raw := range body {
				var list []string
				if json.Unmarshal(raw, &list) == nil {
					n += len(list)
				} else {
					n++ // a lone string
				}
			}
		}
	}
	return n
}
