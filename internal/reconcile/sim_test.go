package reconcile_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The randomized simulation (issue 18): a seeded history of random steps —
// Atlas adds and drops addresses (sim_atlas_test.go) or answers empty or
// fails, fences fail or time out (or write and say they failed), runs
// crash at a step boundary or race, Atlas loses the key, a human edits
// inside or outside the owned part or unblocks, the clock jumps — drives
// the real loop, and invariants are checked after every run. The same seed
// replays the same history. IPSYNC_SIM_SEED and IPSYNC_SIM_STEPS (make
// soak) run other and longer histories.

const simGrace = 24 * time.Hour

// planted is how a history's loop is configured: honestly, or with a bug
// the invariants must find (a removal grace of 0 where they hold it to
// simGrace; admission left out).
type planted struct {
	grace       time.Duration
	noAdmission bool
}

var honest = planted{grace: simGrace}

// world is everything outside the loop.
type world struct {
	mu     sync.Mutex
	now    time.Time
	answer ipset.Set // Atlas's control-plane outbound addresses
	// The project's cluster: its nodes' outbound addresses and those
	// Atlas has published for future use (the endpoint's second source).
	nodes, future ipset.Set
	// lastSeen is, per target, when a run that left the target in sync
	// (applied or already so, not crashed) last fetched an answer listing
	// an address: what the loop can know of it. An address that came back
	// and left again while every run failed for the target was never seen
	// back, and its old departure rightly counts.
	lastSeen     map[string]map[string]time.Time
	fetched      ipset.Set // the last answer FetchAll gave: control plane
	fetchedNodes ipset.Set // and nodes, future ones included
	fetchFail    int       // next fetches fail
	fetchErr     error     // with this
	// The NAT gateways' addresses (the access list's source), the last
	// read of them, and how many next reads fail.
	nat, natFetched ipset.Set
	natFail         int
	fences          map[string]native // by target name
	faults          map[string]int    // "NAME:read|write|lie" → how many more
	writes          int
	// handAdded are the addresses a human put into a fence's owned part
	// since the loop last wrote it: drift correction may remove them at
	// once, whatever Atlas said of them before.
	handAdded  map[string]ipset.Set
	violations []string
	alerts     int
	ledger     ledger
	keyLost    bool  // Atlas answers awsKms.valid false
	calls      calls // the reads runs made
	// loseKeyAtWrite: Atlas answers valid false from the next write of
	// the key policy on (valid flips after a change).
	loseKeyAtWrite bool
	// turns is set while runs race (sim_turns_test.go): each call into
	// the world waits for its turn.
	turns *turns
	// poison is a prefix admission must refuse, carried by one part of a
	// source's answer (poisonAt: outbound, nodes, future or nat) for the
	// next poisonReads reads of that source (sim_poison_test.go).
	poison, poisonAt string
	poisonReads      int
	// handBad are the prefixes admission refuses that a person put into
	// a fence's owned part, ever: the only ones a fence may hold (a
	// rollback may put one back).
	handBad map[string]ipset.Set
}

func (w *world) yield(ctx context.Context) { w.turns.yield(ctx) }

// calls counts the reads runs make, by what they ask: Atlas's whole
// answer, its encryption-at-rest answer, the NAT gateways, a fence.
type calls struct{ atlas, encryption, nat, fenceReads int }

func newWorld() *world {
	w := &world{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), lastSeen: map[string]map[string]time.Time{}, faults: map[string]int{}, handAdded: map[string]ipset.Set{}, handBad: map[string]ipset.Set{}}
	w.answer = ipset.MustParse(simPool()[:10]...)
	w.nodes = ipset.MustParse(nodePool()[:3]...)
	w.nat = ipset.MustParse(natPool()[:5]...)
	// Room for every address of the pool with the grace's: a fence that
	// fills up refuses every change (correctly), and the history would
	// stop exercising anything else. TestOversizeRefusedBeforeAnyWrite
	// covers the full fence.
	rule, _ := securitygroup.ParseRule(target.Options{Direction: "egress", Protocol: "tcp", Ports: "27017", MaxRules: 40})
	w.fences = map[string]native{
		"key":      newPolicyDoc(kmspolicy.Fence, kmspolicy.Limit, testenv.KeyPolicy, "AtlasIPAllowList"),
		"endpoint": newPolicyDoc(vpcepolicy.Fence, vpcepolicy.Limit, testenv.EndpointPolicy, "AtlasNodes"),
		"role":     newPolicyDoc(iamrolepolicy.Fence, iamrolepolicy.Limit, testenv.RolePolicy, "AtlasIPAllowList"),
		"level":    newAccessLevel(),
		"access":   newAccessList(),
		"list":     &list{l: prefixlist.List{ID: "pl-0123abcd", Family: target.IPv4, MaxEntries: 40, Version: 1, Entries: []prefixlist.Entry{{CIDR: "203.0.113.0/24", Description: "office"}}}},
		"group":    &group{rule: rule, rules: []securitygroup.GroupRule{{Egress: true, Protocol: "tcp", From: 443, To: 443, CIDR: "203.0.113.9/32", Description: "https"}}},
		"ipset":    &ipSet{s: wafipset.Set{Description: "atlas-ip-sync webhook", Family: target.IPv4, LockToken: "t"}},
		"vault":    newVault(),
	}
	return w
}

func (w *world) seen(name string, s ipset.Set) {
	if w.lastSeen[name] == nil {
		w.lastSeen[name] = map[string]time.Time{}
	}
	for _, p := range s.Strings() {
		w.lastSeen[name][p] = w.now
	}
}

const simConfig = `{"snapshot":{"url":"file:///unused"},"guards":{"removalGrace":"%s"},
 "atlas":{"projects":["5aec7afbf7d068e35a39809b"]},"verify":{"window":"0s"},
 "targets":[
  {"name":"key","type":"kms-key-policy","resource":"1234abcd-12ab-34cd-56ef-1234567890ab","sid":"AtlasIPAllowList","sources":["control-plane-outbound"],"encryptionAtRestProjects":["5aec7afbf7d068e35a39809b"]},
  {"name":"endpoint","type":"vpc-endpoint-policy","resource":"vpce-0123456789abcdef0","sid":"AtlasNodes","sources":["control-plane-outbound","nodes-outbound"]},
  {"name":"role","type":"iam-role-policy","resource":"atlas-ear/atlas-ip","sid":"AtlasIPAllowList","sources":["control-plane-outbound"]},
  {"name":"list","type":"prefix-list","resource":"pl-0123abcd","sid":"ipsync:","sources":["control-plane-outbound"]},
  {"name":"group","type":"security-group","resource":"sg-0123abcd","sid":"ipsync:","sources":["control-plane-outbound"],"direction":"egress","protocol":"tcp","ports":"27017","maxRules":40},
  {"name":"ipset","type":"waf-ip-set","resource":"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/s/1","sid":"atlas-ip-sync","sources":["control-plane-outbound"]},
  {"name":"level","type":"gcp-access-level","resource":"accessPolicies/1/accessLevels/atlas","sid":"atlas-ip-sync","sources":["control-plane-outbound"]},
  {"name":"vault","type":"azure-key-vault","resource":"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-one","sid":"atlas-ip-sync","sources":["control-plane-outbound"]},
  {"name":"access","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"atlas-ip-sync:","sources":["nat-gateways:ipsync=egress"]}],
 "gcp":{"credentials":{"secretId":"ipsync/gcp"}},
 "azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"11111111-1111-1111-1111-111111111111","federation":{}}}`

func (w *world) Publish(ctx context.Context, a notify.Alert) error {
	w.yield(ctx)
	if err := ctx.Err(); err != nil { // as SNS: a stopped run sends nothing
		return err
	}
	w.mu.Lock()
	w.alerts++
	w.mu.Unlock()
	w.ledger.published(a)
	return nil
}

// sim is one history.
type sim struct {
	w     *world
	cfg   *config.Config
	store *memStore
	rng   *mathrand.Rand
	log   []string // the history, to replay by hand
	// grace is what the invariants hold the loop to (the config's, unless
	// a test plants a bug by configuring another).
	grace time.Duration
	// What the history did, so a test sees it exercised the loop.
	runs, applied, refused, checked int
	steps                           []uint64 // the steps replayed, up to a violation
	racing                          int      // this step runs that many loops at once (0: one)
	races, rolledBack, unblocked    int
	crashes                         int
	appliedTo                       map[string]int // per target
	// Changes to the endpoint that added a node's address, and a future one.
	nodesAdded, futureAdded int
	rolledBackOwn           int // rolled back the change the run made
	counted                 int // runs with nothing to change whose reads were counted
	// Runs that refused a poisoned answer, and that closed a fence a
	// person opened (removed a prefix admission refuses at once).
	poisonRefused, closedAtOnce int
	opts                        reconcile.Options // the loop's: simOptions, or with a planted bug
}

func newSim(t testing.TB, seed uint64, p planted) *sim {
	cfg, err := config.Parse([]byte(fmt.Sprintf(simConfig, p.grace)))
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld()
	s := &sim{w: w, cfg: cfg, store: &memStore{yield: w.yield}, rng: mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), grace: simGrace, appliedTo: map[string]int{}, opts: simOptions}
	if p.noAdmission {
		s.opts = reconcile.WithoutAdmission(simOptions)
	}
	s.store.onSave = s.w.ledger.saved
	return s
}

// deps are one run's: its per-target calls one at a time, in an order
// drawn from rng.
func (s *sim) deps(rng *mathrand.Rand) reconcile.Deps {
	d := reconcile.Deps{
		Atlas: s.w, Store: s.store, Notify: s.w, Encryption: s.w, NAT: s.w,
		Adapters: target.Adapters{},
		Now:      func() time.Time { s.w.mu.Lock(); defer s.w.mu.Unlock(); return s.w.now },
		Sleep:    func(ctx context.Context, _ time.Duration) error { s.w.yield(ctx); return ctx.Err() },
		Log:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Each:     inOrder(rng),
	}
	for _, t := range s.cfg.Targets {
		d.Adapters[target.AdapterKey{Type: t.Type}] = byName{s.w}
	}
	return d
}

// simNames are the world's fences, one per kind; the access list's source
// is the NAT gateways, the others' Atlas's answer.
var simNames = []string{"key", "endpoint", "role", "list", "group", "ipset", "level", "vault", "access"}

// source is what name's target is fed now, and what the loop last read of
// it.
func (w *world) source(name string) (now, read ipset.Set) {
	switch name {
	case "access":
		return w.nat, w.natFetched
	case "endpoint":
		return ipset.Union(w.answer, w.nodes, w.future), ipset.Union(w.fetched, w.fetchedNodes)
	}
	return w.answer, w.fetched
}

// crashSteps are the step boundaries a run may crash at.
func crashSteps() []string {
	steps := []string{"fetched"}
	for _, name := range simNames {
		steps = append(steps, "wrote:"+name)
	}
	return append(steps, "before-record", "recorded", "before-notify")
}

// byName routes a kind's calls to the fence of the target with that
// resource (one target per kind here).
type byName struct{ w *world }

func (b byName) name(ref target.Ref) string {
	switch {
	case strings.HasPrefix(ref.Resource, "pl-"):
		return "list"
	case strings.HasPrefix(ref.Resource, "sg-"):
		return "group"
	case strings.HasPrefix(ref.Resource, "arn:aws:wafv2"):
		return "ipset"
	case strings.HasPrefix(ref.Resource, "/subscriptions/"):
		return "vault"
	case strings.HasPrefix(ref.Resource, "vpce-"):
		return "endpoint"
	case strings.HasPrefix(ref.Resource, "accessPolicies/"):
		return "level"
	case len(ref.Resource) == 24 && !strings.Contains(ref.Resource, "-"):
		return "access" // an Atlas project id
	case strings.Contains(ref.Resource, "/"):
		return "role" // ROLE/POLICY
	}
	return "key"
}

func (b byName) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	return simFences{b.w, b.name(ref)}.Read(ctx, ref)
}

func (b byName) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	return simFences{b.w, b.name(ref)}.Write(ctx, ref, c)
}

func (s *sim) sidOf(name string) string {
	for _, t := range s.cfg.Targets {
		if t.Name == name {
			return t.Sid
		}
	}
	return ""
}

func (s *sim) pick(p []string) string { return p[s.rng.IntN(len(p))] }

// step makes one random move and, when it ran the loop, checks the
// invariants; it returns the first violation.
func (s *sim) step() string {
	w := s.w
	switch r := s.rng.IntN(118); {
	case r >= 115: // a person opens a fence's owned part
		s.handOpens()
	case r >= 112: // a source's answer carries what admission refuses
		s.poisonStep()
	case r >= 106: // the cluster's node addresses change
		s.nodeStep(r - 106)
	case r >= 100: // the NAT gateways change, or their read fails
		return s.natStep(r - 100)
	case r < 14: // Atlas adds an address
		a := s.pick(simPool())
		w.answer = ipset.Union(w.answer, ipset.MustParse(a))
		s.log = append(s.log, "atlas adds "+a)
	case r < 20: // Atlas drops one (rarely several between two runs: more
		// than guards.maxRemovePercent refuses every run until Atlas adds
		// addresses back, which the guard is for, and the history would
		// stop exercising the rest)
		if ps := w.answer.Strings(); len(ps) > 8 {
			a := s.pick(ps)
			w.answer = w.answer.Minus(ipset.MustParse(a))
			s.log = append(s.log, "atlas drops "+a)
		}
	case r < 27: // Atlas answers empty for a while
		return s.runEmpty("atlas answers empty", &w.answer, &w.nodes, &w.future)
	case r < 31:
		w.fetchFail = 1 + s.rng.IntN(3)
		what := s.pick([]string{"429", "500", "503", "timeout"})
		w.fetchErr = atlasFailure(what)
		s.log = append(s.log, "atlas fails: "+what)
	case r < 41: // a fence's next call fails
		name := s.pick(simNames)
		op := s.pick([]string{"read", "write", "lie", "timeout"})
		w.faults[name+":"+op]++
		s.log = append(s.log, "fault "+name+" "+op)
	case r < 47: // a human edits the owned part
		name := s.pick(simNames)
		addr := s.pick(simPool())
		if (name == "list" || name == "ipset" || name == "vault") && strings.Contains(addr, ":") {
			addr = "198.51.100.9/32" // an IPv4 list or set refuses IPv6, as AWS does
		}
		set := ipset.MustParse(addr, "198.51.100.7/32")
		added := set.Minus(w.fences[name].owned(s.sidOf(name)))
		w.handAdded[name] = ipset.Union(w.handAdded[name], added)
		w.fences[name].setOwned(s.sidOf(name), set)
		s.log = append(s.log, "human sets "+name+" to "+set.String())
	case r < 52: // a human edits outside it
		name := s.pick([]string{"list", "group", "vault", "access"})
		a := s.pick(simPool())
		w.fences[name].toggleOther(a)
		s.log = append(s.log, "human toggles another owner's "+a+" on "+name)
	case r < 62:
		d := time.Duration(1+s.rng.IntN(30)) * time.Hour
		w.now = w.now.Add(d)
		s.log = append(s.log, "clock +"+d.String())
	case r < 70: // a run crashes at a step
		step := s.pick(crashSteps())
		s.log = append(s.log, "run crashes at "+step)
		return s.run(true, step)
	case r < 76: // two or three runs at once, on one snapshot and the same fences
		s.racing = 2 + s.rng.IntN(2)
		s.log = append(s.log, fmt.Sprintf("%d runs race", s.racing))
		defer func() { s.racing = 0 }()
		return s.run(false, "")
	case r < 77: // Atlas loses the key (a write is then rolled back and the key blocked), or has it again
		w.keyLost = !w.keyLost
		s.log = append(s.log, fmt.Sprintf("atlas: the key valid %v", !w.keyLost))
	case r < 78:
		w.loseKeyAtWrite = true
		s.log = append(s.log, "atlas: the key turns invalid after its next change")
	case r < 80: // a human unblocks the key
		_, err := snapshot.Unblock(context.Background(), s.store, "key")
		if err == nil {
			s.unblocked++
		}
		s.log = append(s.log, fmt.Sprintf("human unblocks key (%v)", err))
	default:
		s.log = append(s.log, "run")
		return s.run(false, "")
	}
	return ""
}

// natStep changes the NAT gateways (adds one, or drops one while more
// than five are left: more at once is what maxRemovePercent refuses), or
// makes their next read fail, or answers none for a run.
func (s *sim) natStep(k int) string {
	w := s.w
	switch {
	case k < 2:
		a := s.pick(natPool())
		w.nat = ipset.Union(w.nat, ipset.MustParse(a))
		s.log = append(s.log, "a NAT gateway with "+a+" is added")
	case k < 4:
		if ps := w.nat.Strings(); len(ps) > 5 {
			a := s.pick(ps)
			w.nat = w.nat.Minus(ipset.MustParse(a))
			s.log = append(s.log, "the NAT gateway with "+a+" is deleted")
		}
	case k < 5:
		w.natFail = 1 + s.rng.IntN(2)
		s.log = append(s.log, "reading the NAT gateways fails")
	default:
		return s.runEmpty("no NAT gateway is available", &w.nat)
	}
	return ""
}

// runEmpty runs the loop once while the sources answer nothing.
func (s *sim) runEmpty(what string, sources ...*ipset.Set) string {
	for _, source := range sources {
		before := *source
		*source = ipset.Set{}
		defer func() { *source = before }()
	}
	s.log = append(s.log, what)
	return s.run(false, "")
}

// restoring says the run finished name's pending rollback: the fence now
// holds the set the block restores.
func restoring(prev *snapshot.Snapshot, name string, after ipset.Set) bool {
	b, ok := prev.Blocked[name]
	return ok && b.Pending && after.Equal(b.Restore)
}

// holderID is a lease holder's name in a busy run's error: random (each
// invocation's own), so the history leaves it out.
var holderID = regexp.MustCompile(`another run \([0-9a-f]+\)`)

// stepSeeds are a history's steps: each step draws from a seed of its
// own, so a history with steps taken out replays the others exactly.
func stepSeeds(seed uint64, n int) []uint64 {
	r := mathrand.New(mathrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64()
	}
	return out
}

// replay runs the steps and returns the first violation, the history up
// to it, and how many steps ran.
func replay(t testing.TB, steps []uint64, p planted) (string, []string, *sim) {
	s := newSim(t, 0, p)
	for i, seed := range steps {
		s.rng = mathrand.New(mathrand.NewPCG(seed, ^seed))
		if v := s.step(); v != "" {
			return v, s.log, s.withSteps(steps[:i+1])
		}
	}
	return "", s.log, s.withSteps(steps)
}

func (s *sim) withSteps(steps []uint64) *sim { s.steps = steps; return s }

// simOptions are the runs': a busy wait of 1 s (5 polls of the lease, not
// the default minute's 300). The world's clock stands still within a run,
// so a lease left by a crashed run never ends while a run waits for it,
// and each poll reads and decodes the snapshot: most of a history's time.
var simOptions = reconcile.Options{BusyWait: time.Second}

// runLoop runs the loop once or, in a race step, two or three times at
// once (each with its own deps, as Lambda invocations, taking turns drawn
// from the step's seed); the report is the first's, with another's error
// when only it failed, and beside it every run's report.
func (s *sim) runLoop(ctx context.Context, d reconcile.Deps) (reconcile.Report, []reconcile.Report) {
	if s.racing == 0 {
		r := reconcile.Run(ctx, s.cfg, d, s.opts)
		return r, []reconcile.Report{r}
	}
	reports := make([]reconcile.Report, s.racing)
	s.w.turns = newTurns(len(reports), s.rng.Uint64())
	defer func() { s.w.turns = nil }()
	var wg sync.WaitGroup
	for i := range reports {
		wg.Add(1)
		d := s.deps(mathrand.New(mathrand.NewPCG(s.rng.Uint64(), uint64(i))))
		go func() {
			defer wg.Done()
			defer s.w.turns.done(i)
			reports[i] = reconcile.Run(context.WithValue(ctx, runKey{}, i), s.cfg, d, s.opts)
		}()
	}
	wg.Wait()
	r := reports[0]
	for _, other := range reports[1:] {
		if r.Err == nil {
			r.Err = other.Err
		}
	}
	s.races++
	return r, reports
}

// history runs steps from seed and returns the violation, the steps that
// led to it, and what the history did.
func history(t testing.TB, seed uint64, steps int, p planted) (string, []string, []uint64, *sim) {
	v, log, s := replay(t, stepSeeds(seed, steps), p)
	if v == "" {
		t.Logf("seed %d: %d steps, %d runs (%d checked for liveness), %d race steps, %d crashes, %d targets applied, %d refused, %d rolled back, %d unblocked, %d writes, %d alerts",
			seed, steps, s.runs, s.checked, s.races, s.crashes, s.applied, s.refused, s.rolledBack, s.unblocked, s.w.writes, s.w.alerts)
	}
	return v, log, s.steps, s
}

// exercised fails t unless the histories together did what the invariants
// are about: applied a change to every kind, refused, rolled back,
// unblocked, raced, crashed, and had runs without faults to judge.
func exercised(t *testing.T, sims ...*sim) {
	var total sim
	total.appliedTo = map[string]int{}
	for _, s := range sims {
		total.applied += s.applied
		total.checked += s.checked
		total.refused += s.refused
		total.races += s.races
		total.crashes += s.crashes
		total.rolledBack += s.rolledBack
		total.unblocked += s.unblocked
		total.nodesAdded += s.nodesAdded
		total.rolledBackOwn += s.rolledBackOwn
		total.counted += s.counted
		total.futureAdded += s.futureAdded
		total.poisonRefused += s.poisonRefused
		total.closedAtOnce += s.closedAtOnce
		for name, n := range s.appliedTo {
			total.appliedTo[name] += n
		}
	}
	for what, n := range map[string]int{"applied": total.applied, "checked for liveness": total.checked, "refused": total.refused,
		"raced": total.races, "crashed": total.crashes, "rolled back": total.rolledBack, "unblocked": total.unblocked,
		"rolled back its own change": total.rolledBackOwn, "counted the reads of a run with nothing to change": total.counted, "added a node's address": total.nodesAdded, "added a future node's address": total.futureAdded,
		"refused a poisoned answer": total.poisonRefused, "closed a fence a person opened": total.closedAtOnce} {
		if n == 0 {
			t.Errorf("the histories did not exercise the loop: nothing %s", what)
		}
	}
	for _, name := range simNames {
		if total.appliedTo[name] == 0 {
			t.Errorf("the histories never applied a change to %s", name)
		}
	}
}

// shrink takes steps out of a failing history while it still breaks the
// same invariant (the violation's first word), halving the pieces it
// tries down to single steps, and returns the shortest it found.
func shrink(t testing.TB, steps []uint64, violation string, p planted) ([]uint64, string, []string) {
	kind, _, _ := strings.Cut(violation, ":")
	cur, v, log := steps, violation, []string(nil)
	_, log, _ = replay(t, cur, p)
	// A bound on the work, so that a long failing history under the race
	// detector still reports within the test's timeout: what is shrunk by
	// then is printed. A short history shrinks all the way within it.
	budget := 20000
	for chunk := len(cur) / 2; chunk >= 1 && budget > 0; chunk /= 2 {
		for i := 0; i+chunk <= len(cur) && budget > 0; {
			budget -= len(cur) - chunk
			cand := append(append([]uint64(nil), cur[:i]...), cur[i+chunk:]...)
			if cv, clog, cs := replay(t, cand, p); strings.HasPrefix(cv, kind+":") {
				cur, v, log = cs.steps, cv, clog
				continue
			}
			i += chunk
		}
	}
	return cur, v, log
}

// failed reports a failing history: its seed, the shortest history that
// still fails, and how to replay it.
func failed(t *testing.T, seed uint64, steps int, v string, log []string, failing []uint64, p planted) {
	t.Logf("seed %d, step %d: %s (shrinking the history)", seed, len(log), v)
	short, sv, slog := shrink(t, failing, v, p)
	seeds := make([]string, len(short))
	for i, s := range short {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	t.Fatalf("seed %d, step %d: %s\nthe last steps (replay: make soak SEED=%d STEPS=%d):\n  %s\n\nshrunk to %d steps (replay: IPSYNC_SIM_REPLAY=%s go test -run TestSimulation ./internal/reconcile/): %s\n  %s",
		seed, len(log), v, seed, steps, strings.Join(tail(log, 40), "\n  "), len(short), strings.Join(seeds, ","), sv, strings.Join(slog, "\n  "))
}

// simBudget is the seed and the number of steps to run: 10,000 by default
// (make sim, part of make test); 1,000 under the race detector, which
// slows a step tenfold and sees little here, the simulation's runs taking
// turns (make unit).
func simBudget() (seed uint64, steps int) {
	seed, steps = 1, 10000
	if raceDetector {
		steps = 1000
	}
	if v, err := strconv.ParseUint(os.Getenv("IPSYNC_SIM_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("IPSYNC_SIM_STEPS")); err == nil && v > 0 {
		steps = v
	}
	return seed, steps
}

// TestSimulation runs the budget as two histories side by side (the race
// detector slows each run tenfold; most of a run is the CPU's): seeds
// seed and seed+1, half the steps each.
func TestSimulation(t *testing.T) {
	if r := os.Getenv("IPSYNC_SIM_REPLAY"); r != "" {
		var steps []uint64
		for _, f := range strings.Split(r, ",") {
			n, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				t.Fatalf("IPSYNC_SIM_REPLAY: %v", err)
			}
			steps = append(steps, n)
		}
		v, log, _ := replay(t, steps, honest)
		t.Logf("replayed %d steps:\n  %s", len(steps), strings.Join(log, "\n  "))
		if v != "" {
			t.Fatal(v)
		}
		return
	}
	seed, steps := simBudget()
	sims := make([]*sim, 2)
	t.Run("histories", func(t *testing.T) {
		for i := range sims {
			t.Run(fmt.Sprint("seed-", seed+uint64(i)), func(t *testing.T) {
				t.Parallel()
				v, h, failing, s := history(t, seed+uint64(i), steps/2, honest)
				if v != "" {
					failed(t, seed+uint64(i), steps, v, h, failing, honest) // make soak halves STEPS between two seeds
				}
				sims[i] = s
			})
		}
	})
	// The race detector's tenth of the budget is there for data races; the
	// full budget (make sim) must also show it exercised the loop.
	if !t.Failed() && !raceDetector {
		exercised(t, sims...)
	}
}

// A planted bug is found within the same budget: the loop configured with
// no removal grace while the invariants hold it to 24 hours stands for a
// loop that skips the grace check.
func TestSimulationFindsAPlantedBug(t *testing.T) {
	seed, steps := simBudget()
	v, h, failing, _ := history(t, seed, steps, planted{grace: 0})
	if !strings.HasPrefix(v, "safety: ") {
		t.Fatalf("removing at once went unnoticed for %d steps (violation %q)", steps, v)
	}
	t.Logf("found at step %d: %s", len(h), v)
	// Shrunk, it still fails the same way, in fewer steps, and replays.
	short, sv, _ := shrink(t, failing, v, planted{grace: 0})
	if !strings.HasPrefix(sv, "safety: ") || len(short) > len(failing) {
		t.Fatalf("shrunk to %d steps (from %d): %q", len(short), len(failing), sv)
	}
	if again, _, _ := replay(t, short, planted{grace: 0}); again != sv {
		t.Fatalf("the shrunk history does not replay: %q, then %q", sv, again)
	}
	t.Logf("shrunk from %d steps to %d", len(failing), len(short))
}

// A seed replays its history exactly, races and crashes included: the
// same steps twice give the same history run by run (statuses, reasons,
// errors) and the same fences.
func TestSimulationReplaysExactly(t *testing.T) {
	t.Parallel()
	steps := stepSeeds(3, 1500)
	if raceDetector {
		steps = steps[:300]
	}
	v, first, a := replay(t, steps, honest)
	if v != "" {
		t.Fatal(v)
	}
	if a.races == 0 || a.crashes == 0 {
		t.Fatalf("the history has %d race steps and %d crashes: it shows nothing", a.races, a.crashes)
	}
	_, second, b := replay(t, steps, honest)
	for i := range min(len(first), len(second)) {
		if first[i] != second[i] {
			t.Fatalf("step %d differs on replay:\n  %s\n  %s", i, first[i], second[i])
		}
	}
	if len(first) != len(second) {
		t.Fatalf("%d steps, then %d on replay", len(first), len(second))
	}
	for _, name := range simNames {
		fa, fb := a.w.fences[name], b.w.fences[name]
		sid := a.sidOf(name)
		if !fa.owned(sid).Equal(fb.owned(sid)) || fa.outside(sid) != fb.outside(sid) {
			t.Errorf("%s ends at %s, then %s on replay", name, fa.owned(sid), fb.owned(sid))
		}
	}
	if a.w.writes != b.w.writes || a.w.alerts != b.w.alerts {
		t.Errorf("%d writes and %d alerts, then %d and %d on replay", a.w.writes, a.w.alerts, b.w.writes, b.w.alerts)
	}
}

func tail(h []string, n int) []string {
	if len(h) > n {
		return h[len(h)-n:]
	}
	return h
}
