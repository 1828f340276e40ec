package securitygroup

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestParseRule(t *testing.T) {
	for _, c := range []struct {
		o    target.Options
		want string // Rule.String(), or the error's text
	}{
		{target.Options{Direction: "egress", Protocol: "tcp", Ports: "27015-27017"}, "egress tcp 27015-27017"},
		{target.Options{Direction: "ingress", Protocol: "udp", Ports: "53"}, "ingress udp 53"},
		{target.Options{Direction: "egress", Protocol: "all"}, "egress all traffic"},
		{target.Options{Direction: "egress", Protocol: "icmp"}, "egress icmp"},
		{target.Options{Protocol: "tcp", Ports: "1"}, "direction is required"},
		{target.Options{Direction: "out", Protocol: "tcp", Ports: "1"}, `direction "out"`},
		{target.Options{Direction: "egress", Protocol: "tcp"}, "ports are required for tcp"},
		{target.Options{Direction: "egress", Protocol: "all", Ports: "1-2"}, "takes no ports"},
		{target.Options{Direction: "egress", Protocol: "tcp", Ports: "9-1"}, `ports "9-1"`},
		{target.Options{Direction: "egress", Protocol: "tcp", Ports: "65536"}, `ports "65536"`},
		{target.Options{Direction: "egress", Protocol: "sctp"}, `protocol "sctp"`},
		{target.Options{Direction: "egress", Protocol: "tcp", Ports: "1", MaxRules: -1}, "maxRules -1"},
	} {
		r, err := ParseRule(c.o)
		got := r.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
	if r, _ := ParseRule(target.Options{Direction: "egress", Protocol: "tcp", Ports: "1", MaxRules: 200}); r.Quota != 200 {
		t.Errorf("maxRules: quota %d", r.Quota)
	}
}

func TestCovers(t *testing.T) {
	r := Rule{Egress: true, Protocol: "tcp", From: 27015, To: 27017}
	for _, c := range []struct {
		egress   bool
		protocol string
		from, to int32
		want     bool
	}{
		{true, "-1", -1, -1, true},
		{true, "tcp", 0, 65535, true},
		{true, "tcp", 27015, 27017, true},
		{true, "tcp", 27015, 27016, false},
		{true, "udp", 0, 65535, false},
		{false, "-1", -1, -1, false},
	} {
		if got := r.Covers(c.egress, c.protocol, c.from, c.to); got != c.want {
			t.Errorf("%+v covers %s: %v", c, r, got)
		}
	}
	icmp := Rule{Egress: true, Protocol: "icmp", From: -1, To: -1}
	if icmp.Covers(true, "icmp", 8, 0) || !icmp.Covers(true, "icmp", -1, -1) {
		t.Error("an ICMP rule for one type does not cover every type")
	}
}

var egress = Rule{Egress: true, Protocol: "tcp", From: 27015, To: 27017, Quota: 4}

func rule(cidr, desc string) GroupRule {
	return GroupRule{ID: "sgr-" + cidr, Egress: true, Protocol: "tcp", From: 27015, To: 27017, CIDR: cidr, IPv6: strings.Contains(cidr, ":"), Description: desc}
}

func TestFenceOwnsOnlyItsTrafficAndDescription(t *testing.T) {
	g := Group{ID: "sg-1", Rule: egress, Sid: "ipsync:", Rules: []GroupRule{
		rule("192.0.2.1/32", "ipsync: managed"),
		rule("192.0.2.2/32", "team db"), // someone else's: the same traffic, held, not owned
		{Egress: true, Protocol: "tcp", From: 443, To: 443, CIDR: "192.0.2.3/32", Description: "ipsync: managed"}, // other ports
		{Egress: false, Protocol: "tcp", From: 27015, To: 27017, CIDR: "192.0.2.4/32", Description: "ipsync: managed"},
		{Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "198.51.100.0/24"}, // broader: counts for nothing
		{Egress: true, Protocol: "tcp", From: 27015, To: 27017},                   // a prefix-list rule
	}}
	f, err := NewFence(g)
	if err != nil {
		t.Fatal(err)
	}
	if f.Owned().String() != "[192.0.2.1/32]" || fmt.Sprint(f.HeldByOthers()) != "[192.0.2.2/32]" || len(f.OpenToAll()) != 0 {
		t.Fatalf("owned %s, others hold %s, open %q", f.Owned(), f.HeldByOthers(), f.OpenToAll())
	}
	if f.Used() != 5 || f.Capacity().Max != 4 || f.Capacity().Unit != target.RuleCount {
		t.Fatalf("used %d of %+v", f.Used(), f.Capacity())
	}
}

// IPv4 and IPv6 rules count against the quota apart (moto counts them
// together; AWS does not), at the peak: additions come before removals.
func TestQuotaIsPerFamilyAtThePeak(t *testing.T) {
	g := Group{ID: "sg-1", Rule: egress, Sid: "ipsync:", Rules: []GroupRule{
		rule("192.0.2.1/32", "ipsync: managed"), rule("192.0.2.2/32", "ipsync: managed"), rule("192.0.2.3/32", "other"),
		rule("2001:db8::1/128", "ipsync: managed"), rule("2001:db8::2/128", "ipsync: managed"), rule("2001:db8::3/128", "x"),
	}}
	f, err := NewFence(g)
	if err != nil {
		t.Fatal(err)
	}
	// 3 IPv4 + 3 IPv6 rules now: one more of each fits a quota of 4.
	ok := ipset.MustParse("192.0.2.1/32", "192.0.2.9/32", "2001:db8::1/128", "2001:db8::9/128")
	if c, err := f.Rewrite(ok, f.Capacity()); err != nil || c.Size != 3 {
		t.Fatalf("one addition per family: %v, size %d", err, c.Size)
	}
	// Swapping both IPv4 rules ends at 3, but peaks at 5 before the removals.
	swap := ipset.MustParse("192.0.2.8/32", "192.0.2.10/32")
	_, err = f.Rewrite(swap, f.Capacity())
	var se *target.SizeError
	if !errors.As(err, &se) || se.Size != 5 || !strings.Contains(err.Error(), "5 egress IPv4 rules at its peak (3 now + 2 added before 2 are removed), over its quota of 4") || !strings.Contains(err.Error(), "prefix list") {
		t.Fatalf("swap: %v", err)
	}
}

// Property: a change Rewrite accepts never takes either family's count of
// the direction's rules over the quota at any point (now, peak, after).
func TestRewriteNeverPlansPastTheQuota(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		quota := rapid.IntRange(1, 8).Draw(t, "quota")
		g := Group{ID: "sg-1", Rule: egress, Sid: "ipsync:"}
		g.Rule.Quota = quota
		addr := func(i int, v6 bool) string {
			if v6 {
				return fmt.Sprintf("2001:db8::%x/128", 2*i+1)
			}
			return fmt.Sprintf("192.0.2.%d/32", 2*i+1) // never adjacent: one prefix each
		}
		rules := map[string]bool{}
		for i, n := 0, rapid.IntRange(0, 10).Draw(t, "rules"); i < n; i++ {
			v6 := rapid.Bool().Draw(t, "v6")
			c := addr(rapid.IntRange(0, 9).Draw(t, "addr"), v6)
			if rules[c] {
				continue
			}
			rules[c] = true
			desc := rapid.SampledFrom([]string{"ipsync: managed", "other"}).Draw(t, "owner")
			g.Rules = append(g.Rules, rule(c, desc))
		}
		f, err := NewFence(g)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range rapid.IntRange(0, 10).Draw(t, "desired") {
			want = append(want, addr(i, rapid.Bool().Draw(t, "dv6")))
		}
		desired := ipset.MustParse(want...)
		c, err := f.Rewrite(desired, f.Capacity())
		if err != nil {
			return
		}
		for _, v6 := range []bool{false, true} {
			peak := 0
			for _, r := range g.Rules {
				if r.IPv6 == v6 {
					peak++
				}
			}
			owned := map[string]bool{}
			for _, p := range f.Owned().Strings() {
				owned[p] = true
			}
			for _, p := range desired.Strings() {
				if isV6(p) == v6 && !owned[p] {
					peak++
				}
			}
			if peak > quota {
				t.Fatalf("accepted a change that peaks at %d rules (v6 %v) over a quota of %d (size %d)", peak, v6, quota, c.Size)
			}
		}
	})
}

// ParseRule reads what a user wrote: it never panics, and a rule it accepts
// names traffic EC2 takes (ports in range, FROM not above TO, -1 for the
// protocols without ports) and reads back from its own words.
func FuzzParseRule(f *testing.F) {
	f.Add("egress", "tcp", "27015-27017", 60)
	f.Add("ingress", "all", "", 0)
	f.Add("egress", "icmp", "", 1000)
	f.Add("egress", "udp", "65535", -1)
	f.Add("ingress", "tcp", "1-2-3", 5)
	f.Fuzz(func(t *testing.T, dir, proto, ports string, maxRules int) {
		r, err := ParseRule(target.Options{Direction: dir, Protocol: proto, Ports: ports, MaxRules: maxRules})
		if err != nil {
			return
		}
		if r.Quota < 1 || r.Quota > 1000 {
			t.Fatalf("quota %d", r.Quota)
		}
		switch r.Protocol {
		case "tcp", "udp":
			if r.From < 0 || r.To > 65535 || r.From > r.To {
				t.Fatalf("ports %d-%d", r.From, r.To)
			}
		case "icmp", "-1":
			if r.From != -1 || r.To != -1 || ports != "" {
				t.Fatalf("%s with ports %q: %d-%d", r.Protocol, ports, r.From, r.To)
			}
		default:
			t.Fatalf("protocol %q", r.Protocol)
		}
		if r.Egress != (dir == "egress") {
			t.Fatalf("direction %q read as egress %v", dir, r.Egress)
		}
	})
}

// AWS's default egress rule (all traffic to 0.0.0.0/0) opens the fence,
// and holds nothing ipsync wants: ipsync still writes its own rules, so
// that removing the default rule cuts nothing off (issue 30).
func TestTheDefaultAllowAllRuleOpensTheFenceButHoldsNothing(t *testing.T) {
	g := Group{ID: "sg-1", Rule: egress, Sid: "ipsync:", Rules: []GroupRule{
		{ID: "sgr-default", Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"},
		{ID: "sgr-v6", Egress: true, Protocol: "tcp", From: 0, To: 65535, CIDR: "::/0", IPv6: true},
		{ID: "sgr-udp", Egress: true, Protocol: "udp", From: 0, To: 65535, CIDR: "0.0.0.0/0"}, // other traffic: not open
		{ID: "sgr-in", Egress: false, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"},    // other direction
	}}
	f, err := NewFence(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.HeldByOthers()) != 0 {
		t.Fatalf("others hold %v", f.HeldByOthers())
	}
	if got := strings.Join(f.OpenToAll(), "; "); got != "rule sgr-default (all traffic to 0.0.0.0/0); rule sgr-v6 (tcp 0-65535 to ::/0)" {
		t.Fatalf("open %q", got)
	}
}
