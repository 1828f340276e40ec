// Package policydoc is the Fence of the kinds that own one statement of an
// IAM-grammar policy document (KMS key policies, VPC endpoint policies, IAM
// inline policies). Its rewrite keeps every byte of meaning of the rest of
// the document (internal/policy).
package policydoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Fence is a policy document and the statement ipsync owns in it.
type Fence struct {
	doc   []byte
	sid   string
	limit policy.Limit
	owned *policy.Owned
	set   ipset.Set
}

// Read finds the statement sid owns in doc, measured as limit says. A
// document without a usable statement is a *target.NotOwnedError.
func Read(doc []byte, sid string, limit policy.Limit) (target.Fence, error) {
	owned, err := policy.Parse(doc, sid)
	var oe *policy.OwnershipError
	if errors.As(err, &oe) {
		return nil, &target.NotOwnedError{Err: err}
	}
	if err != nil {
		return nil, err
	}
	cond := owned.Condition()
	set, err := ipset.Parse(cond.Values)
	if err != nil {
		return nil, fmt.Errorf("the live policy's %s %s holds a value that is not an IP or CIDR: %v", cond.Operator, cond.Key, err)
	}
	return &Fence{doc: doc, sid: sid, limit: limit, owned: owned, set: set}, nil
}

// Owned is what the owned statement's IP condition allows.
func (f *Fence) Owned() ipset.Set { return f.set }

// Used is the document's size as the service counts it.
func (f *Fence) Used() int { return f.limit.Size(f.doc) }

// Document is the policy as read.
func (f *Fence) Document() []byte { return f.doc }

// Capacity is the service's limit.
func (f *Fence) Capacity() target.Capacity { return CapacityOf(f.limit) }

// CapacityOf is a policy limit as a capacity.
func CapacityOf(l policy.Limit) target.Capacity {
	return target.Capacity{Name: l.Name, Max: l.Max, Unit: target.Unit(l.Unit())}
}

// Rewrite renders the document with the owned condition holding desired:
// indented when that fits room, compact when only that fits.
func (f *Fence) Rewrite(desired ipset.Set, room target.Capacity) (target.Change, error) {
	l := f.limit
	l.Name, l.Max = room.Name, room.Max
	r, err := policy.Render(f.owned.Rewrite(desired.Strings()), l)
	var se *policy.SizeError
	if errors.As(err, &se) {
		return target.Change{}, &target.SizeError{Capacity: room, Size: se.Compact}
	}
	if err != nil {
		return target.Change{}, err
	}
	return target.Change{Set: desired, Size: r.Size, Form: r.Form, Document: r.Text}, nil
}

// Describe names the owned statement and its condition.
func (f *Fence) Describe() string {
	c := f.owned.Condition()
	return fmt.Sprintf("statement %q found, %s %s with %d prefix(es)", f.sid, c.Operator, c.Key, f.set.Len())
}

// Families: both.
func (f *Fence) Families() target.Families { return target.BothFamilies }

// HeldByOthers: none; the other statements are no allow list.
func (f *Fence) HeldByOthers() []netip.Prefix { return nil }

// Statement is the owned statement a policy-document kind shows a user to
// add, as a kind's Example.
type Statement struct {
	Principal string // JSON, e.g. `"*"`; "" for none (an identity policy)
	Actions   []string
	Resource  string
	Key       string // the IP condition key: aws:SourceIp, aws:VpcSourceIp
}

// Example renders the statement with sid and addrs, indented as a user
// would paste it.
func (s Statement) Example(sid string, addrs []string) string {
	if addrs == nil {
		addrs = []string{}
	}
	list, _ := json.Marshal(addrs)        // a []string always marshals
	actions, _ := json.Marshal(s.Actions) // likewise
	principal := ""
	if s.Principal != "" {
		principal = fmt.Sprintf("\n  \"Principal\": %s,", s.Principal)
	}
	return fmt.Sprintf(`{
  "Sid": %q,
  "Effect": "Allow",%s
  "Action": %s,
  "Resource": %q,
  "Condition": {"IpAddress": {%q: %s}}
}`, sid, principal, strings.ReplaceAll(string(actions), `","`, `", "`), s.Resource, s.Key, list)
}
