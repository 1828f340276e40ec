// Package policy reads and rewrites the one statement ipsync owns in an
// IAM-grammar policy document (a KMS key policy, a VPC endpoint policy).
//
// It keeps every byte of meaning of everything else: the order of keys and
// statements, unknown fields, string-or-array values, number literals and
// string escapes. It touches exactly the values of the owned statement's one
// IP condition key and always writes them as a JSON array.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The IP condition keys and operators ipsync may own.
var (
	ipKeys      = []string{"aws:SourceIp", "aws:VpcSourceIp"}
	ipOperators = []string{"IpAddress", "NotIpAddress"}
)

// IPCondition is the owned statement's IP condition.
type IPCondition struct {
	Operator string   // IpAddress or NotIpAddress, as written
	Key      string   // aws:SourceIp or aws:VpcSourceIp, as written
	Values   []string // as written (a lone string becomes one value)
}

// OwnershipError says why the owned statement cannot be used. Adapters add
// the statement a user should add for their kind of policy.
type OwnershipError struct {
	Sid     string
	Problem string
}

func (e *OwnershipError) Error() string {
	return fmt.Sprintf("statement %q: %s", e.Sid, e.Problem)
}

// problemNoStatement is the Problem of a document without the owned statement.
const problemNoStatement = "no statement has this Sid"

// IsNoStatement reports whether err says the document has no statement
// with the Sid, and nothing worse.
func IsNoStatement(err error) bool {
	var o *OwnershipError
	return errors.As(err, &o) && o.Problem == problemNoStatement
}

// owned locates the statement and its IP condition inside a document.
type owned struct {
	top        object
	statements []json.RawMessage // nil when Statement is a lone object
	index      int               // of the owned statement in statements
	stmt       object
	condition  object
	operator   string
	opBody     object
	key        string
	values     []string
}

func locate(doc []byte, sid string) (*owned, error) {
	// Compact once: every raw value below is then compact, and the rewritten
	// document can be assembled without scanning its parts again.
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return nil, fmt.Errorf("policy is not valid JSON: %w", err)
	}
	top, err := parseObject(compact.Bytes())
	if err != nil {
		return nil, fmt.Errorf("policy is not a valid JSON object: %w", err)
	}
	rawStmts, ok := top.get("Statement")
	if !ok {
		return nil, &OwnershipError{Sid: sid, Problem: "the policy has no Statement"}
	}
	o := &owned{top: top, index: -1}
	var candidates []json.RawMessage
	if arr, isArray := parseArray(rawStmts); isArray {
		o.statements = arr
		candidates = arr
	} else {
		candidates = []json.RawMessage{rawStmts}
	}
	for i, raw := range candidates {
		st, err := parseObject(raw)
		if err != nil {
			return nil, fmt.Errorf("policy statement %d: %w", i, err)
		}
		rawSid, ok := st.get("Sid")
		var s string
		if !ok || json.Unmarshal(rawSid, &s) != nil || s != sid {
			continue
		}
		if o.index >= 0 {
			return nil, &OwnershipError{Sid: sid, Problem: "two statements carry this Sid; ipsync owns exactly one"}
		}
		o.index, o.stmt = i, st
	}
	if o.index < 0 {
		return nil, &OwnershipError{Sid: sid, Problem: problemNoStatement}
	}
	rawCond, ok := o.stmt.get("Condition")
	if !ok {
		return nil, &OwnershipError{Sid: sid, Problem: "the statement has no Condition"}
	}
	if o.condition, err = parseObject(rawCond); err != nil {
		return nil, &OwnershipError{Sid: sid, Problem: "its Condition is not a JSON object: " + err.Error()}
	}
	var found []string
	for _, op := range o.condition.members {
		body, err := parseObject(op.value)
		if err != nil {
			return nil, &OwnershipError{Sid: sid, Problem: fmt.Sprintf("condition operator %s is not a JSON object", op.key)}
		}
		for _, k := range body.members {
			if !isIPKey(k.key) {
				continue
			}
			found = append(found, op.key+" "+k.key)
			if !isIPOperator(op.key) {
				return nil, &OwnershipError{Sid: sid, Problem: fmt.Sprintf("its IP condition uses operator %s; ipsync owns only IpAddress or NotIpAddress", op.key)}
			}
			o.operator, o.opBody, o.key = op.key, body, k.key
			values, err := stringOrArray(k.value)
			if err != nil {
				return nil, &OwnershipError{Sid: sid, Problem: fmt.Sprintf("%s %s: %v", op.key, k.key, err)}
			}
			o.values = values
		}
	}
	switch len(found) {
	case 0:
		return nil, &OwnershipError{Sid: sid, Problem: "the statement has no IP condition (IpAddress or NotIpAddress on aws:SourceIp or aws:VpcSourceIp)"}
	case 1:
		return o, nil
	}
	return nil, &OwnershipError{Sid: sid, Problem: fmt.Sprintf("the statement has %d IP condition keys (%s); ipsync owns exactly one", len(found), strings.Join(found, ", "))}
}

func isIPKey(k string) bool {
	for _, want := range ipKeys {
		if strings.EqualFold(k, want) { // condition keys are case-insensitive in IAM
			return true
		}
	}
	return false
}

func isIPOperator(op string) bool {
	for _, want := range ipOperators {
		if op == want {
			return true
		}
	}
	return false
}

func stringOrArray(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("values must be a string or an array of strings")
	}
	return many, nil
}

// Owned is a parsed document with its owned statement located, to read the
// IP condition and rewrite it without parsing the document twice.
type Owned struct{ o *owned }

// Parse locates the owned statement of doc.
func Parse(doc []byte, sid string) (*Owned, error) {
	o, err := locate(doc, sid)
	if err != nil {
		return nil, err
	}
	return &Owned{o: o}, nil
}

// Condition is the owned statement's IP condition.
func (w *Owned) Condition() IPCondition {
	return IPCondition{Operator: w.o.operator, Key: w.o.key, Values: w.o.values}
}

// Rewrite returns the document, compact, with the owned IP condition's
// values replaced by values (a JSON array, in the order given).
func (w *Owned) Rewrite(values []string) []byte {
	o := w.o
	arr := make([]json.RawMessage, len(values))
	for i, v := range values {
		arr[i] = quote(v)
	}
	body := o.opBody.set(o.key, marshalArray(arr))
	cond := o.condition.set(o.operator, body.marshal())
	stmt := o.stmt.set("Condition", cond.marshal())
	var stmts json.RawMessage
	if o.statements == nil {
		stmts = stmt.marshal()
	} else {
		items := append([]json.RawMessage(nil), o.statements...)
		items[o.index] = stmt.marshal()
		stmts = marshalArray(items)
	}
	return o.top.set("Statement", stmts).marshal()
}

// Read returns the owned statement's IP condition.
func Read(doc []byte, sid string) (IPCondition, error) {
	w, err := Parse(doc, sid)
	if err != nil {
		return IPCondition{}, err
	}
	return w.Condition(), nil
}

// Rewrite returns the document, compact, with the owned IP condition's values
// replaced by values.
func Rewrite(doc []byte, sid string, values []string) ([]byte, error) {
	w, err := Parse(doc, sid)
	if err != nil {
		return nil, err
	}
	return w.Rewrite(values), nil
}
