package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
)

// The simulation's world, in memory: a snapshot store with compare-and-
// swap, and fences of the nine kinds kept in their service's own form and read
// through the kinds' real (pure) fence code, so the loop runs its real
// plan, rewrite and bookkeeping with nothing faked but the I/O.

// memStore is a snapshot store in memory.
type memStore struct {
	mu     sync.Mutex
	b      []byte
	v      int
	outbox []snapshot.PendingAlert // the stored snapshot's
	// seen is the stored snapshot decoded for the invariants (peek), at
	// version seenV: decoding it again for every check was a third of a
	// history's time.
	seen  *snapshot.Snapshot
	seenV int
	loads int // how many times the snapshot was read
	// onSave, when set, is told of each write's outbox, before and after.
	onSave func(before, after []snapshot.PendingAlert)
	// yield, when set, is called first by every load and save (the racing
	// runs' turns).
	yield func(context.Context)
}

func (m *memStore) URL() string { return "mem://simulation" }

func (m *memStore) Load(ctx context.Context) (*snapshot.Snapshot, snapshot.Version, error) {
	m.wait(ctx)
	if err := ctx.Err(); err != nil { // as S3 and the file store do: a stopped run reads nothing
		return nil, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.b == nil {
		return nil, "", snapshot.ErrNotFound
	}
	s, err := snapshot.Unmarshal(m.b)
	return s, snapshot.Version(fmt.Sprint(m.v)), err
}

// peek is the stored snapshot for the invariants to read (not to change),
// or nil before the first save.
func (m *memStore) peek() *snapshot.Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.b == nil {
		return nil
	}
	if m.seen == nil || m.seenV != m.v {
		s, err := snapshot.Unmarshal(m.b)
		if err != nil {
			return nil
		}
		m.seen, m.seenV = s, m.v
	}
	return m.seen
}

func (m *memStore) wait(ctx context.Context) {
	if m.yield != nil {
		m.yield(ctx)
	}
}

func (m *memStore) Save(ctx context.Context, s *snapshot.Snapshot, prev snapshot.Version) (snapshot.Version, error) {
	m.wait(ctx)
	if err := ctx.Err(); err != nil { // a stopped run writes nothing
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := snapshot.Version("")
	if m.b != nil {
		cur = snapshot.Version(fmt.Sprint(m.v))
	}
	if cur != prev {
		return "", &snapshot.ConflictError{URL: m.URL(), Err: fmt.Errorf("at %s, not %s", cur, prev)}
	}
	b, err := s.Marshal()
	if err != nil {
		return "", err
	}
	m.b, m.v = b, m.v+1
	if m.onSave != nil {
		m.onSave(m.outbox, s.Outbox)
	}
	m.outbox = append([]snapshot.PendingAlert(nil), s.Outbox...)
	return snapshot.Version(fmt.Sprint(m.v)), nil
}

// native is one fence in its service's form.
type native interface {
	fence(sid string) (target.Fence, error)
	// apply writes a change; it says why the service would refuse it (past
	// its limit: invariant 6; a duplicate of another owner's part:
	// invariant 2), and then writes nothing.
	apply(sid string, c target.Change) (refused string)
	owned(sid string) ipset.Set
	outside(sid string) string
	setOwned(sid string, s ipset.Set)
	toggleOther(addr string)
}

// policyDoc is a policy document: a KMS key policy, a VPC endpoint
// policy or a role's inline policy, read by its kind's fence and held to
// its service's limit.
type policyDoc struct {
	doc    []byte
	read   func(doc []byte, sid string) (target.Fence, error)
	limit  policy.Limit
	render func(sid string, values ...string) string // a document whose owned statement holds values
	// memo is the invariants' view of doc (owned and outside parts), kept
	// until doc changes: parsing it twice per fence per run was most of the
	// simulation's own time.
	memo *docView
}

type docView struct {
	sid     string
	owned   ipset.Set
	outside string
}

func newPolicyDoc(read func([]byte, string) (target.Fence, error), limit policy.Limit, render func(string, ...string) string, sid string) *policyDoc {
	return &policyDoc{doc: []byte(render(sid, "192.0.2.0/32")), read: read, limit: limit, render: render}
}

func (k *policyDoc) fence(sid string) (target.Fence, error) { return k.read(k.doc, sid) }
func (k *policyDoc) apply(_ string, c target.Change) string {
	if n := k.limit.Size(c.Document); n > k.limit.Max {
		return fmt.Sprintf("sizes: %s of %d written", k.limit.Name, n)
	}
	k.doc, k.memo = c.Document, nil
	return ""
}

func (k *policyDoc) view(sid string) *docView {
	if k.memo == nil || k.memo.sid != sid {
		v := &docView{sid: sid, outside: outsideOf(k.doc, sid)}
		if f, err := k.fence(sid); err == nil {
			v.owned = f.Owned()
		}
		k.memo = v
	}
	return k.memo
}

func (k *policyDoc) owned(sid string) ipset.Set { return k.view(sid).owned }
func (k *policyDoc) outside(sid string) string  { return k.view(sid).outside }

// outsideOf is the document without the owned statement, as values: the
// rewrite may indent or compact it, never change its meaning.
func outsideOf(document []byte, sid string) string {
	var doc map[string]any
	if err := json.Unmarshal(document, &doc); err != nil {
		return "not JSON: " + err.Error()
	}
	var kept []any
	for _, st := range doc["Statement"].([]any) {
		if st.(map[string]any)["Sid"] != sid {
			kept = append(kept, st)
		}
	}
	doc["Statement"] = kept
	b, _ := json.Marshal(doc) // decoded JSON always marshals
	return string(b)
}
func (k *policyDoc) setOwned(sid string, s ipset.Set) {
	k.doc, k.memo = []byte(k.render(sid, s.Strings()...)), nil
}
func (k *policyDoc) toggleOther(string) {}

// accessLevel is a GCP basic access level, owned whole and laid out as the
// adapter writes it.
type accessLevel struct{ l gcpaccesslevel.Level }

func newAccessLevel() *accessLevel {
	return &accessLevel{l: gcpaccesslevel.Level{Name: "accessPolicies/1/accessLevels/atlas", Title: "atlas", Description: "atlas-ip-sync level",
		Basic: &gcpaccesslevel.Basic{Conditions: []gcpaccesslevel.Condition{{IPSubnetworks: []string{"192.0.2.0/32"}}}}}}
}

func (a *accessLevel) fence(sid string) (target.Fence, error) { return gcpaccesslevel.Fence(a.l, sid) }
func (a *accessLevel) apply(_ string, c target.Change) string {
	if c.Set.Len() > gcpaccesslevel.Capacity.Max {
		return fmt.Sprintf("sizes: access level of %d CIDRs written", c.Set.Len())
	}
	conds, err := gcpaccesslevel.Layout(c.Set)
	if err != nil {
		return "sizes: " + err.Error()
	}
	a.l.Basic = &gcpaccesslevel.Basic{CombiningFunction: "OR", Conditions: conds}
	return ""
}
func (a *accessLevel) owned(string) ipset.Set {
	var cidrs []string
	for _, c := range a.l.Basic.Conditions {
		cidrs = append(cidrs, c.IPSubnetworks...)
	}
	return ipset.MustParse(cidrs...)
}
func (a *accessLevel) outside(string) string { return a.l.Title + "|" + a.l.Description }
func (a *accessLevel) setOwned(_ string, s ipset.Set) {
	conds, _ := gcpaccesslevel.Layout(s) // a human's edit: never empty here
	a.l.Basic = &gcpaccesslevel.Basic{Conditions: conds}
}
func (a *accessLevel) toggleOther(string) {}

// list is a prefix list's entries, its own family and MaxEntries.
type list struct{ l prefixlist.List }

func (p *list) fence(sid string) (target.Fence, error) { return prefixlist.Fence(p.l, sid) }
func (p *list) apply(sid string, c target.Change) string {
	var kept []prefixlist.Entry
	for _, e := range p.l.Entries {
		if !strings.HasPrefix(e.Description, sid) {
			kept = append(kept, e)
		}
	}
	for _, cidr := range c.Set.Strings() {
		for _, e := range kept {
			if e.CIDR == cidr {
				return "ownership: an entry for " + cidr + " added beside another owner's (a list holds a CIDR once)"
			}
		}
		kept = append(kept, prefixlist.Entry{CIDR: cidr, Description: sid + prefixlist.Suffix})
	}
	if len(kept) > p.l.MaxEntries {
		return fmt.Sprintf("sizes: prefix list of %d entries written, MaxEntries %d", len(kept), p.l.MaxEntries)
	}
	p.l.Entries, p.l.Version = kept, p.l.Version+1
	return ""
}
func (p *list) owned(sid string) ipset.Set {
	var v []string
	for _, e := range p.l.Entries {
		if strings.HasPrefix(e.Description, sid) {
			v = append(v, e.CIDR)
		}
	}
	return ipset.MustParse(v...)
}
func (p *list) outside(sid string) string {
	var v []string
	for _, e := range p.l.Entries {
		if !strings.HasPrefix(e.Description, sid) {
			v = append(v, e.CIDR+" "+e.Description)
		}
	}
	sort.Strings(v)
	return strings.Join(v, ",")
}
func (p *list) setOwned(sid string, s ipset.Set) { p.apply(sid, target.Change{Set: s}) }
func (p *list) toggleOther(addr string) {
	for i, e := range p.l.Entries {
		if e.CIDR == addr && e.Description == "someone else" {
			p.l.Entries = append(p.l.Entries[:i], p.l.Entries[i+1:]...)
			return
		}
		if e.CIDR == addr {
			return // a CIDR is on a list once
		}
	}
	if !strings.Contains(addr, ":") {
		p.l.Entries = append(p.l.Entries, prefixlist.Entry{CIDR: addr, Description: "someone else"})
	}
}

// group is a security group's egress rules for one port range.
type group struct {
	rule  securitygroup.Rule
	rules []securitygroup.GroupRule
}

func (g *group) fence(sid string) (target.Fence, error) {
	return securitygroup.NewFence(securitygroup.Group{ID: "sg-0123abcd", Rule: g.rule, Sid: sid, Rules: g.rules})
}
func (g *group) apply(sid string, c target.Change) string {
	var kept []securitygroup.GroupRule
	have := map[string]bool{}
	wanted := map[string]bool{}
	for _, p := range c.Set.Strings() {
		wanted[p] = true
	}
	peak := map[bool]int{}
	for _, r := range g.rules {
		peak[r.IPv6]++
		if strings.HasPrefix(r.Description, sid) && !wanted[r.CIDR] {
			continue
		}
		have[r.CIDR] = have[r.CIDR] || strings.HasPrefix(r.Description, sid)
		kept = append(kept, r)
	}
	foreign := map[string]bool{}
	for _, r := range g.rules {
		if !strings.HasPrefix(r.Description, sid) {
			foreign[r.CIDR] = true
		}
	}
	for p := range wanted {
		if foreign[p] && !have[p] {
			return "ownership: a rule for " + p + " added beside another owner's rule for it (EC2 refuses a duplicate)"
		}
		if !have[p] {
			v6 := strings.Contains(p, ":")
			peak[v6]++
			kept = append(kept, securitygroup.GroupRule{Egress: true, Protocol: "tcp", From: g.rule.From, To: g.rule.To, CIDR: p, IPv6: v6, Description: sid + securitygroup.Suffix})
		}
	}
	for v6, n := range peak {
		if n > g.rule.Quota {
			return fmt.Sprintf("sizes: security group at %d rules (IPv6 %v) while adding, quota %d", n, v6, g.rule.Quota)
		}
	}
	g.rules = kept
	return ""
}
func (g *group) owned(sid string) ipset.Set {
	var v []string
	for _, r := range g.rules {
		if strings.HasPrefix(r.Description, sid) {
			v = append(v, r.CIDR)
		}
	}
	return ipset.MustParse(v...)
}
func (g *group) outside(sid string) string {
	var v []string
	for _, r := range g.rules {
		if !strings.HasPrefix(r.Description, sid) {
			v = append(v, r.CIDR+" "+r.Description)
		}
	}
	sort.Strings(v)
	return strings.Join(v, ",")
}
func (g *group) setOwned(sid string, s ipset.Set) { g.apply(sid, target.Change{Set: s}) }
func (g *group) toggleOther(addr string) {
	for i, r := range g.rules {
		if r.CIDR == addr && r.Description == "someone else" {
			g.rules = append(g.rules[:i], g.rules[i+1:]...)
			return
		}
	}
	g.rules = append(g.rules, securitygroup.GroupRule{Egress: true, Protocol: "tcp", From: g.rule.From, To: g.rule.To, CIDR: addr, IPv6: strings.Contains(addr, ":"), Description: "someone else"})
}

// ipSet is a WAF IP set, owned whole.
type ipSet struct{ s wafipset.Set }

func (w *ipSet) fence(sid string) (target.Fence, error) { return wafipset.Fence(w.s, sid) }
func (w *ipSet) apply(_ string, c target.Change) string {
	if c.Set.Len() > wafipset.Capacity.Max {
		return fmt.Sprintf("sizes: IP set of %d addresses written", c.Set.Len())
	}
	w.s.Addresses = c.Set.Strings()
	return ""
}
func (w *ipSet) owned(string) ipset.Set         { return ipset.MustParse(w.s.Addresses...) }
func (w *ipSet) outside(string) string          { return w.s.Description }
func (w *ipSet) setOwned(_ string, s ipset.Set) { w.s.Addresses = s.Strings() }
func (w *ipSet) toggleOther(string)             {}

// simFences is one kind's adapter over the world's fence, with faults.
type simFences struct {
	w    *world
	name string
}

var errInjected = errors.New("injected by the simulation")

// errTimedOut is what a call that ran out of its time (Options.CallTimeout)
// returns: the hang itself is the fault matrix's (faults_test.go); here a
// run only meets its outcome, without the wall-clock wait.
var errTimedOut = fmt.Errorf("injected by the simulation: %w", context.DeadlineExceeded)

// fault uses up one of the fence's next faults of op, if any.
func (a simFences) fault(op string) bool {
	if a.w.faults[a.name+":"+op] > 0 {
		a.w.faults[a.name+":"+op]--
		return true
	}
	return false
}

func (a simFences) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	a.w.yield(ctx)
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.w.calls.fenceReads++
	if a.fault("read") {
		return nil, &target.Error{Op: "read", Kind: a.name, Resource: ref.Resource, Err: errInjected}
	}
	if a.fault("timeout") {
		return nil, &target.Error{Op: "read", Kind: a.name, Resource: ref.Resource, Err: errTimedOut}
	}
	if r, ok := a.w.fences[a.name].(recordedNative); ok {
		return r.fenceFor(ref)
	}
	return a.w.fences[a.name].fence(ref.Sid)
}

// recordedNative is a fence that does not mark ipsync's part: it reads and
// writes with what the snapshot says ipsync wrote (target.Ref.Written).
type recordedNative interface {
	fenceFor(ref target.Ref) (target.Fence, error)
	applyFor(ref target.Ref, c target.Change) string
}

func (a simFences) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	a.w.yield(ctx)
	a.w.mu.Lock()
	defer a.w.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.fault("write") {
		return &target.Error{Op: "write", Kind: a.name, Resource: ref.Resource, Err: errInjected}
	}
	if a.fault("timeout") {
		return &target.Error{Op: "write", Kind: a.name, Resource: ref.Resource, Err: errTimedOut}
	}
	a.w.writes++
	apply := a.w.fences[a.name].apply
	if r, ok := a.w.fences[a.name].(recordedNative); ok {
		apply = func(_ string, c target.Change) string { return r.applyFor(ref, c) }
	}
	if refused := apply(ref.Sid, c); refused != "" {
		a.w.violations = append(a.w.violations, a.name+": "+refused)
		return &target.Error{Op: "write", Kind: a.name, Resource: ref.Resource, Err: errors.New(refused)}
	}
	if a.name == "key" && a.w.loseKeyAtWrite { // Atlas loses the key after this change
		a.w.loseKeyAtWrite, a.w.keyLost = false, true
	}
	if a.fault("lie") { // written, but reported failed: the answer was lost
		return &target.Error{Op: "write", Kind: a.name, Resource: ref.Resource, Err: errTimedOut}
	}
	return nil
}

// accessList is an Atlas project's IP access list: entries whose comment
// starts with the sid are ipsync's, the rest anyone's (an office's here).
// It is read and written as accesslistio does: managed entries by
// canonical CIDR, every other entry counted against the limit.
type accessList struct {
	managed ipset.Set
	others  []string // anyone else's CIDRs, sorted
}

func newAccessList() *accessList {
	return &accessList{managed: ipset.MustParse("192.0.2.0/32"), others: []string{"203.0.113.50/32"}}
}

func (a *accessList) fence(sid string) (target.Fence, error) {
	return entries.New(entries.List{Managed: a.managed, Count: a.managed.Len(), Others: len(a.others), Limit: atlasaccesslist.Capacity, Marker: fmt.Sprintf("comment prefix %q", sid)}), nil
}
func (a *accessList) apply(_ string, c target.Change) string {
	if n := c.Set.Len() + len(a.others); n > atlasaccesslist.Capacity.Max {
		return fmt.Sprintf("sizes: access list of %d entries written", n)
	}
	written := c.Set.Strings()
	for _, o := range a.others {
		if slices.Contains(written, o) {
			return "ownership: the write would take over another owner's entry " + o
		}
	}
	a.managed = c.Set
	return ""
}
func (a *accessList) owned(string) ipset.Set         { return a.managed }
func (a *accessList) outside(string) string          { return strings.Join(a.others, " ") }
func (a *accessList) setOwned(_ string, s ipset.Set) { a.managed = s }
func (a *accessList) toggleOther(addr string) {
	if i := slices.Index(a.others, addr); i >= 0 {
		a.others = slices.Delete(a.others, i, i+1)
		return
	}
	if !ipset.MustParse(addr).Minus(a.managed).IsEmpty() { // Atlas holds one entry per address
		a.others = append(a.others, addr)
		sort.Strings(a.others)
	}
}

// natPool is the Elastic IPs the NAT gateways draw from: apart from each
// other and from Atlas's pool.
func natPool() []string {
	var out []string
	for i := range 10 {
		out = append(out, fmt.Sprintf("198.51.100.%d/32", 20+2*i))
	}
	return out
}

// PublicIPs is the NAT gateways' addresses, as the history last set them.
func (w *world) PublicIPs(ctx context.Context, _, _, _ string) (ipset.Set, error) {
	w.yield(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return ipset.Set{}, err
	}
	w.calls.nat++
	if w.natFail > 0 {
		w.natFail--
		return ipset.Set{}, errors.New("describe NAT gateways: injected by the simulation")
	}
	w.natFetched = w.poisoned("nat", w.nat)
	return w.natFetched, nil
}
