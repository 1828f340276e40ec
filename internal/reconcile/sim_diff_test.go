package reconcile_test

import (
	"context"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The in-memory fences of the simulation must not drift from the real
// adapters: the same random history (Atlas adds and drops addresses, the
// clock jumps, a human edits the owned part, runs, runs that crash at a
// step boundary, runs whose fence read or write the service refuses, or
// whose write lands and is reported failed) drives the loop over the
// in-memory world and over moto or the GCP and Azure simulators, and
// after each run the owned parts and the target's status are the same. A
// few hundred steps in all; the long histories stay in memory.
func TestSimulationMatchesTheRealAdapters(t *testing.T) {
	names := map[string]string{string(kmspolicy.Type): "key", string(vpcepolicy.Type): "endpoint", string(iamrolepolicy.Type): "role",
		string(securitygroup.Type): "group", string(prefixlist.Type): "list", string(wafipset.Type): "ipset",
		string(gcpaccesslevel.Type): "level", string(azurekeyvault.Type): "vault"}
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool { return names[string(k.Name)] != "" }, func(t *testing.T, k reconciletest.Kind) {
		t.Parallel()
		name := names[string(k.Name)]
		real, proxy := reconciletest.FaultStack(t, k, "")
		real.Sim.SetProject(reconciletest.Project) // the control plane's outbound addresses only, as in memory
		mem := newSim(t, 0, honest)
		// The one target, as the real stack has: another target's change
		// would claim the lease in memory and hold back the next run there.
		mem.cfg.Targets = slices.DeleteFunc(slices.Clone(mem.cfg.Targets), func(t config.Target) bool { return t.Name != name })
		mem.w.now = real.Now
		mem.w.nodes = ipset.Set{} // the real project has no cluster
		rng := mathrand.New(mathrand.NewPCG(uint64(len(name)), 7))
		pool := simPool()
		answer := ipset.MustParse(pool[:8]...)
		setAnswer := func() {
			mem.w.answer = answer
			var vs []string
			for _, p := range answer.Strings() {
				vs = append(vs, strings.TrimSuffix(strings.TrimSuffix(p, "/32"), "/128"))
			}
			real.Sim.SetControlPlane(reconciletest.ControlPlane(vs...))
		}
		setAnswer()
		var history []string
		runs, crashes, faults, landed := 0, 0, 0, 0
		// compare runs the loop on both sides, each stopped at crashAt when
		// set, and compares what they did to the target.
		compare := func(step int, what, crashAt string) {
			runs++
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			md := mem.deps(mem.rng)
			md.Checkpoint = stopAt(crashAt, name, cancel)
			mr := reconcile.Run(ctx, mem.cfg, md, simOptions)
			rctx, rcancel := context.WithCancel(context.Background())
			defer rcancel()
			// The real side pauses as the simulation does (not at all: its
			// clock, too, stands still within a run) and waits as briefly
			// for a lease that a crashed run left.
			rr := real.RunWith(t, rctx, simOptions, func(d *reconcile.Deps) {
				d.Checkpoint = stopAt(crashAt, "target", rcancel)
				d.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
			})
			ms, rs := statusOf(mr, name), statusOf(rr, "target")
			history = append(history, fmt.Sprintf("%s → in memory %s, real %s", what, ms, rs))
			got := strings.Join(mem.w.fences[name].owned(mem.sidOf(name)).Strings(), " ")
			if want := k.Live(t, real); got != want || ms != rs {
				t.Fatalf("step %d: in memory the owned part is [%s] (%s), through the real adapter [%s] (%s)\nhistory:\n  %s", step, got, ms, want, rs, strings.Join(history, "\n  "))
			}
		}
		for step := 0; step < 80; step++ {
			switch r := rng.IntN(12); {
			case r < 2:
				a := pool[rng.IntN(len(pool))]
				answer = ipset.Union(answer, ipset.MustParse(a))
				setAnswer()
				history = append(history, "atlas adds "+a)
			case r < 3:
				if ps := answer.Strings(); len(ps) > 7 {
					a := ps[rng.IntN(len(ps))]
					answer = answer.Minus(ipset.MustParse(a))
					setAnswer()
					history = append(history, "atlas drops "+a)
				}
			case r < 5:
				d := time.Duration(1+rng.IntN(30)) * time.Hour
				mem.w.now = mem.w.now.Add(d)
				real.Advance(d)
				history = append(history, "clock +"+d.String())
			case r < 6 && !k.Recorded && runs > 0:
				// A human edit of the owned part (a vault has no owned
				// part to edit by hand: a rule a human adds is the human's).
				set := ipset.MustParse(pool[rng.IntN(8)], "198.51.100.7/32")
				mem.w.fences[name].setOwned(mem.sidOf(name), set)
				k.SetOwnedTo(t, real, set.Strings()...)
				history = append(history, "human sets the owned part to "+set.String())
			case r == 10 && runs > 0:
				crashes++
				at := []string{"fetched", "wrote", "before-record", "recorded", "before-notify"}[rng.IntN(5)]
				compare(step, "run crashes at "+at, at)
			case r == 11 && runs > 0:
				faults++
				op := []string{"read", "write", "lie"}[rng.IntN(3)]
				what := "the service refuses the " + op
				var clear func()
				if op == "lie" {
					// Atlas adds an address the fence lacks first, so that
					// the run writes.
					added := ""
					if lacks := ipset.MustParse(pool...).Minus(mem.w.fences[name].owned(mem.sidOf(name))).Strings(); len(lacks) > 0 {
						a := lacks[rng.IntN(len(lacks))]
						answer = ipset.Union(answer, ipset.MustParse(a))
						setAnswer()
						added = "atlas adds " + a + "; "
					}
					what = added + "the write lands but is reported failed"
					if clear = landsButFails(real, proxy); clear == nil {
						op, what = "write", added+"the service refuses the write"
					}
				}
				if clear == nil {
					clear = refuse(real, proxy, op)
				}
				mem.w.faults[name+":"+op] = 1
				compare(step, what, "")
				if op == "lie" && mem.w.faults[name+":lie"] == 0 {
					landed++ // the run had a change to write
				}
				clear()
				delete(mem.w.faults, name+":"+op) // a write the plan did not need leaves the fault unused
			default:
				compare(step, "run", "")
			}
		}
		if runs < 20 || crashes == 0 || faults == 0 {
			t.Fatalf("%d runs, %d crashes, %d faults: the history shows too little", runs, crashes, faults)
		}
		if landed == 0 && writesInOneCall(real) {
			t.Fatalf("no write landed and was reported failed: the history shows too little\nhistory:\n  %s", strings.Join(history, "\n  "))
		}
	})
}

// stopAt is a Checkpoint that stops the run (as a crash would) at step
// crashAt, "wrote" meaning after the target's write; "" never stops.
func stopAt(crashAt, target string, stop context.CancelFunc) func(string) {
	if crashAt == "wrote" {
		crashAt = "wrote:" + target
	}
	return func(at string) {
		if crashAt != "" && at == crashAt {
			stop()
		}
	}
}

// awsService is the service a kind's fence is reached through.
var awsService = map[config.TargetType]string{
	kmspolicy.Type: "kms", vpcepolicy.Type: "ec2", iamrolepolicy.Type: "iam",
	securitygroup.Type: "ec2", prefixlist.Type: "ec2", wafipset.Type: "wafv2",
}

// refuse makes the real service refuse the target's reads or writes with
// an error no retry gets past (AWS on the wire, through the fault proxy;
// the GCP and Azure simulators themselves) until the returned func clears
// it.
func refuse(s *reconciletest.Stack, proxy *testenv.FaultProxy, op string) (clear func()) {
	switch {
	case s.GCP != nil:
		gop := map[string]string{"read": gcptest.OpGetLevel, "write": gcptest.OpPatchLevel}[op]
		s.GCP.Inject(gcptest.Fault{Op: gop, Status: 403, Times: 100})
		return s.GCP.ClearFaults
	case s.Az != nil:
		aop := map[string]string{"read": azuretest.OpGetVault, "write": azuretest.OpPatchVault}[op]
		s.Az.Inject(azuretest.Fault{Op: aop, Status: 403, Times: 100})
		return s.Az.ClearFaults
	}
	ops := append([]string{s.K.ReadOp}, s.K.AlsoReads...)
	if op == "write" {
		ops = append([]string{s.K.WriteOp}, s.K.AlsoWrites...)
	}
	service := awsService[s.K.Name]
	for _, o := range ops {
		proxy.Inject(testenv.AWSFault{Service: service, Op: o, Status: 403, Code: deniedCode[service], Times: 100})
	}
	return proxy.Clear
}

// landsButFails makes the target's next write take effect and answer an
// error no retry gets past (a lost response): on the wire through the
// fault proxy for AWS, by the GCP and Azure simulators themselves. nil
// for a security group, whose change is several calls.
func landsButFails(s *reconciletest.Stack, proxy *testenv.FaultProxy) (clear func()) {
	switch {
	case !writesInOneCall(s):
		return nil
	case s.GCP != nil:
		s.GCP.Inject(gcptest.Fault{Op: gcptest.OpPatchLevel, Status: 403, Times: 1, Landed: true})
		return s.GCP.ClearFaults
	case s.Az != nil:
		s.Az.Inject(azuretest.Fault{Op: azuretest.OpPatchVault, Status: 403, Times: 1, Landed: true})
		return s.Az.ClearFaults
	}
	service := awsService[s.K.Name]
	proxy.Inject(testenv.AWSFault{Service: service, Op: s.K.WriteOp, Status: 403, Code: deniedCode[service], Times: 1, Landed: true})
	return proxy.Clear
}

func writesInOneCall(s *reconciletest.Stack) bool { return len(s.K.AlsoWrites) == 0 }

// deniedCode is each service's access-denied error code.
var deniedCode = map[string]string{"kms": "AccessDeniedException", "ec2": "UnauthorizedOperation", "iam": "AccessDenied", "wafv2": "AccessDeniedException"}

func statusOf(r reconcile.Report, name string) plan.Status {
	for _, tp := range r.Targets {
		if tp.Name == name {
			return tp.Status
		}
	}
	return "missing"
}

// The in-memory access list against the real adapter (accesslistio on the
// Atlas simulator): one seeded history in which NAT gateways come and go,
// the clock jumps, a human edits the managed entries, and runs. Both sides
// read the same NAT gateways (the in-memory world's; the NAT reader has its
// own test on moto), so only the fence differs.
func TestSimulationMatchesTheAccessListAdapter(t *testing.T) {
	t.Parallel()
	real := reconciletest.NewAccessListWorld(t, "")
	mem := newSim(t, 0, honest)
	now := mem.w.now
	real.Deps.NAT = mem.w
	real.Deps.Now = func() time.Time { return now }
	office := atlastest.AccessEntry{IPAddress: "203.0.113.50", Comment: "office"}
	setReal := func(set ipset.Set) {
		entries := []atlastest.AccessEntry{office}
		for _, p := range set.Strings() {
			entries = append(entries, atlastest.AccessEntry{CIDRBlock: p, Comment: "atlas-ip-sync"})
		}
		real.Sim.SetAccessList(reconciletest.Project, entries...)
	}
	setReal(ipset.MustParse("192.0.2.0/32"))
	realOwned := func() string {
		var mine []string
		for _, e := range real.Sim.AccessListOf(reconciletest.Project) {
			switch {
			case !strings.HasPrefix(e.Comment, "atlas-ip-sync"):
			case e.CIDRBlock != "":
				mine = append(mine, e.CIDRBlock)
			default:
				mine = append(mine, e.IPAddress)
			}
		}
		return strings.Join(ipset.MustParse(mine...).Strings(), " ")
	}
	rng := mathrand.New(mathrand.NewPCG(19, 7))
	var history []string
	runs := 0
	for step := 0; step < 80; step++ {
		switch r := rng.IntN(10); {
		case r < 2:
			a := natPool()[rng.IntN(len(natPool()))]
			mem.w.nat = ipset.Union(mem.w.nat, ipset.MustParse(a))
			history = append(history, "a NAT gateway with "+a+" is added")
		case r < 3:
			if ps := mem.w.nat.Strings(); len(ps) > 5 {
				a := ps[rng.IntN(len(ps))]
				mem.w.nat = mem.w.nat.Minus(ipset.MustParse(a))
				history = append(history, "the NAT gateway with "+a+" is deleted")
			}
		case r < 5:
			d := time.Duration(1+rng.IntN(30)) * time.Hour
			mem.w.now = mem.w.now.Add(d)
			now = now.Add(d)
			history = append(history, "clock +"+d.String())
		case r < 6 && runs > 0:
			set := ipset.MustParse(natPool()[rng.IntN(5)], "198.51.100.7/32")
			mem.w.fences["access"].setOwned(mem.sidOf("access"), set)
			setReal(set)
			history = append(history, "human sets the managed entries to "+set.String())
		default:
			runs++
			mr := reconcile.Run(context.Background(), mem.cfg, mem.deps(mem.rng), reconcile.Options{})
			rr := real.Run()
			ms, rs := statusOf(mr, "access"), statusOf(rr, "access-list")
			history = append(history, fmt.Sprintf("run → in memory %s, real %s", ms, rs))
			got := strings.Join(mem.w.fences["access"].owned("").Strings(), " ")
			if want := realOwned(); got != want || ms != rs {
				t.Fatalf("step %d: in memory the managed entries are [%s] (%s), through the real adapter [%s] (%s)\nhistory:\n  %s", step, got, ms, want, rs, strings.Join(history, "\n  "))
			}
		}
	}
	if runs < 20 {
		t.Fatalf("only %d runs", runs)
	}
}
