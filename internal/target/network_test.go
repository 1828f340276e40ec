package target_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist/plio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup/sgio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset/wafio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

var egress = target.Options{Direction: "egress", Protocol: "tcp", Ports: "27015-27017"}

func noSleep(context.Context, time.Duration) error { return nil }

// proxied is the shared moto behind a fault proxy, which answers as AWS
// does where moto accepts what AWS refuses.
func proxied(t *testing.T) (*testenv.FaultProxy, aws.Config) {
	t.Helper()
	proxy, err := testenv.StartFaultProxy(testenv.SharedMoto(t).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	return proxy, testenv.AWSConfigAt(t, proxy.URL)
}

func wafClients(cfg aws.Config) func(string) wafio.API {
	return func(region string) wafio.API {
		return wafv2.NewFromConfig(cfg, func(o *wafv2.Options) { o.Region = region })
	}
}

// writeAndRead writes the rewrite of desired and reads the fence back.
func writeAndRead(t *testing.T, a adapter, ref target.Ref, desired ipset.Set) (target.Fence, target.Change) {
	t.Helper()
	ctx := context.Background()
	f, err := a.Read(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Rewrite(desired, f.Capacity())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, ref, c); err != nil {
		t.Fatal(err)
	}
	back, err := a.Read(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Owned().Equal(desired) {
		t.Fatalf("after the write the owned part holds %s, want %s", back.Owned(), desired)
	}
	return back, c
}

func TestSecurityGroupAgainstMoto(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	calls := testenv.CountCalls(&cfg)
	ctx := context.Background()
	group := testenv.CreateSecurityGroup(t, cfg)
	testenv.AddRule(t, cfg, group, true, "tcp", 27015, 27017, "192.0.2.1/32", "ipsync: managed")
	testenv.AddRule(t, cfg, group, true, "tcp", 27015, 27017, "198.51.100.7/32", "team db")       // someone else's, same traffic
	testenv.AddRule(t, cfg, group, true, "tcp", 443, 443, "192.0.2.2/32", "ipsync: managed")      // other ports: not owned
	testenv.AddRule(t, cfg, group, false, "tcp", 27015, 27017, "192.0.2.3/32", "ipsync: managed") // ingress: not owned
	a := sgio.New(ec2.NewFromConfig(cfg))
	ref := target.Ref{Resource: group, Sid: "ipsync:", Options: egress}

	calls.Reset()
	desired := ipset.MustParse("203.0.113.9/32", "2001:db8::9/128")
	back, _ := writeAndRead(t, a, ref, desired)
	if n, m := calls.Get("AuthorizeSecurityGroupEgress"), calls.Get("RevokeSecurityGroupEgress"); n != 1 || m != 1 {
		t.Fatalf("authorize %d, revoke %d calls; want one each (additions in one call, then removals)", n, m)
	}
	if fmt.Sprint(back.HeldByOthers()) != "[198.51.100.7/32]" || back.Used() != 3 {
		t.Fatalf("others allow %s, used %d", back.HeldByOthers(), back.Used())
	}
	rules, err := ec2.NewFromConfig(cfg).DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2Filter{{Name: aws.String("group-id"), Values: []string{group}}}})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, r := range rules.SecurityGroupRules {
		seen = append(seen, fmt.Sprintf("%v %s %d %s%s %q", aws.ToBool(r.IsEgress), aws.ToString(r.IpProtocol), aws.ToInt32(r.FromPort), aws.ToString(r.CidrIpv4), aws.ToString(r.CidrIpv6), aws.ToString(r.Description)))
	}
	got := strings.Join(seen, "\n")
	for _, want := range []string{`true tcp 27015 198.51.100.7/32 "team db"`, `true tcp 443 192.0.2.2/32 "ipsync: managed"`, `false tcp 27015 192.0.2.3/32 "ipsync: managed"`,
		`true tcp 27015 203.0.113.9/32 "ipsync: managed"`, `true tcp 27015 2001:db8::9/128 "ipsync: managed"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing rule %s in\n%s", want, got)
		}
	}
	if strings.Contains(got, "192.0.2.1/32") {
		t.Errorf("the owned rule no longer wanted is still there:\n%s", got)
	}

	// In sync: one page of rules read, nothing written.
	calls.Reset()
	f, err := a.Read(ctx, ref)
	if err != nil || !f.Owned().Equal(desired) || calls.Total() != 1 {
		t.Fatalf("no-op read: %v, %d calls", err, calls.Total())
	}
}

type ec2Filter = ec2types.Filter

func TestPrefixListAgainstMoto(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	calls := testenv.CountCalls(&cfg)
	ctx := context.Background()
	id := testenv.CreatePrefixList(t, cfg, "IPv4", 5,
		testenv.PrefixListEntry{CIDR: "192.0.2.1/32", Description: "ipsync: managed"},
		testenv.PrefixListEntry{CIDR: "198.51.100.0/24", Description: "office"})
	a := plio.New(ec2.NewFromConfig(cfg), noSleep)
	ref := target.Ref{Resource: id, Sid: "ipsync:"}
	f, err := a.Read(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if f.Families() != target.IPv4 || f.Capacity().Max != 5 || f.Used() != 2 || fmt.Sprint(f.HeldByOthers()) != "[198.51.100.0/24]" {
		t.Fatalf("families %v, capacity %+v, used %d, others %s", f.Families(), f.Capacity(), f.Used(), f.HeldByOthers())
	}
	calls.Reset()
	back, c := writeAndRead(t, a, ref, ipset.MustParse("203.0.113.9/32", "203.0.113.11/32"))
	if calls.Get("ModifyManagedPrefixList") != 1 || c.Version != "1" || !strings.Contains(back.Describe(), "version 2") {
		t.Fatalf("%d modifies, planned at version %q, now %s", calls.Get("ModifyManagedPrefixList"), c.Version, back.Describe())
	}
	entries, err := ec2.NewFromConfig(cfg).GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries.Entries {
		got = append(got, aws.ToString(e.Cidr)+" "+aws.ToString(e.Description))
	}
	if s := strings.Join(got, ", "); !strings.Contains(s, "198.51.100.0/24 office") || strings.Contains(s, "192.0.2.1/32") || !strings.Contains(s, "203.0.113.9/32 ipsync: managed") {
		t.Fatalf("entries: %s", s)
	}
}

// More than 100 changes take several calls, none of which takes the list
// over its MaxEntries, and each names the version the last one made.
func TestPrefixListWritesInCallsOfAHundred(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	calls := testenv.CountCalls(&cfg)
	var start []testenv.PrefixListEntry
	for i := range 120 {
		start = append(start, testenv.PrefixListEntry{CIDR: fmt.Sprintf("10.1.%d.0/24", i), Description: "ipsync: managed"})
	}
	id := testenv.CreatePrefixList(t, cfg, "IPv4", 130, start...)
	var want []string
	for i := range 125 {
		want = append(want, fmt.Sprintf("10.2.%d.0/24", 2*i)) // apart: one prefix each
	}
	a := plio.New(ec2.NewFromConfig(cfg), noSleep)
	calls.Reset()
	writeAndRead(t, a, target.Ref{Resource: id, Sid: "ipsync:"}, ipset.MustParse(want...))
	// 120 entries and room for 130: +55 -45, +50 -50, +20 -25.
	if n := calls.Get("ModifyManagedPrefixList"); n != 3 {
		t.Fatalf("%d modify calls for 125 additions and 120 removals, want 3 of at most 100 entries", n)
	}
}

// moto accepts a stale CurrentVersion; EC2 answers PrefixListVersionMismatch
// (the EC2 API reference's error codes). The proxy answers so: the adapter
// reads the list again and writes from the new version, and gives up after
// three conflicts in a row.
func TestPrefixListVersionConflictReadsAgain(t *testing.T) {
	proxy, cfg := proxied(t)
	id := testenv.CreatePrefixList(t, cfg, "IPv4", 10)
	a := plio.New(ec2.NewFromConfig(cfg), noSleep)
	ref := target.Ref{Resource: id, Sid: "ipsync:"}
	proxy.Inject(testenv.AWSFault{Service: "ec2", Op: "ModifyManagedPrefixList", Status: 400, Code: "PrefixListVersionMismatch", Times: 1})
	writeAndRead(t, a, ref, ipset.MustParse("203.0.113.9/32"))
	if n := proxy.Requests("ec2", "ModifyManagedPrefixList"); n != 2 {
		t.Fatalf("%d modify requests, want the refused one and one after reading again", n)
	}
	proxy.Inject(testenv.AWSFault{Service: "ec2", Op: "ModifyManagedPrefixList", Status: 400, Code: "PrefixListVersionMismatch", Times: 3})
	f, err := a.Read(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.Rewrite(ipset.MustParse("203.0.113.10/32"), f.Capacity())
	err = a.Write(context.Background(), ref, c)
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(te.Hint, "someone else changed the list") {
		t.Fatalf("three conflicts: %v", err)
	}
}

// moto ignores MaxEntries; EC2 refuses a modify that would pass it. The
// adapter checks the list as it is at write time, before any call.
func TestPrefixListFullAtWriteTimeIsNotWritten(t *testing.T) {
	moto := testenv.SharedMoto(t)
	cfg := moto.AWSConfig(t)
	calls := testenv.CountCalls(&cfg)
	id := testenv.CreatePrefixList(t, cfg, "IPv4", 2, testenv.PrefixListEntry{CIDR: "198.51.100.0/24", Description: "office"})
	a := plio.New(ec2.NewFromConfig(cfg), noSleep)
	calls.Reset()
	err := a.Write(context.Background(), target.Ref{Resource: id, Sid: "ipsync:"}, target.Change{Set: ipset.MustParse("203.0.113.9/32", "203.0.113.11/32")})
	var se *target.SizeError
	if !errors.As(err, &se) || se.Size != 3 || calls.Get("ModifyManagedPrefixList") != 0 {
		t.Fatalf("%v, %d modifies", err, calls.Get("ModifyManagedPrefixList"))
	}
}

func TestWAFIPSetAgainstMoto(t *testing.T) {
	proxy, cfg := proxied(t)
	ctx := context.Background()
	arn := testenv.CreateIPSet(t, cfg, "atlas-ip-sync webhook", "IPV4", "192.0.2.1/32")
	a := wafio.New(wafClients(cfg))
	ref := target.Ref{Resource: arn, Sid: "atlas-ip-sync"}
	back, _ := writeAndRead(t, a, ref, ipset.MustParse("203.0.113.9/32", "203.0.113.11/32"))
	if back.Families() != target.IPv4 || !strings.Contains(back.Describe(), `description "atlas-ip-sync webhook"`) {
		t.Fatalf("after the write: %v %s", back.Families(), back.Describe())
	}

	// A lost lock (someone else updated the set) reads again and updates
	// with the new token; moto checks tokens, the proxy makes it happen
	// between the read and the update.
	proxy.Inject(testenv.AWSFault{Service: "wafv2", Op: "UpdateIPSet", Status: 400, Code: "WAFOptimisticLockException", Times: 1})
	before := proxy.Requests("wafv2", "UpdateIPSet")
	writeAndRead(t, a, ref, ipset.MustParse("203.0.113.9/32"))
	if n := proxy.Requests("wafv2", "UpdateIPSet") - before; n != 2 {
		t.Fatalf("%d updates, want the refused one and one after reading again", n)
	}

	other := testenv.CreateIPSet(t, cfg, "team firewall", "IPV4", "192.0.2.1/32")
	_, err := a.Read(ctx, target.Ref{Resource: other, Sid: "atlas-ip-sync"})
	var no *target.NotOwnedError
	if !errors.As(err, &no) {
		t.Fatalf("a set of someone else: %v", err)
	}
	missing := strings.Replace(arn, arn[strings.LastIndex(arn, "/")+1:], "00000000-0000-0000-0000-000000000000", 1)
	_, err = a.Read(ctx, target.Ref{Resource: missing, Sid: "atlas-ip-sync"})
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(te.Hint, "does not exist") {
		t.Fatalf("missing set: %v", err)
	}
}

// EC2 checks the rules quota at each authorize (moto counts IPv4 and IPv6
// together and against one 60, so the proxy answers as EC2 does): a refused
// authorize leaves the group as it was, nothing revoked.
func TestSecurityGroupQuotaRefusedByEC2RevokesNothing(t *testing.T) {
	proxy, cfg := proxied(t)
	group := testenv.CreateSecurityGroup(t, cfg)
	testenv.AddRule(t, cfg, group, true, "tcp", 27015, 27017, "192.0.2.1/32", "ipsync: managed")
	a := sgio.New(ec2.NewFromConfig(cfg))
	ref := target.Ref{Resource: group, Sid: "ipsync:", Options: egress}
	proxy.Inject(testenv.AWSFault{Service: "ec2", Op: "AuthorizeSecurityGroupEgress", Status: 400, Code: "RulesPerSecurityGroupLimitExceeded", Times: 1})
	revokes := proxy.Requests("ec2", "RevokeSecurityGroupEgress") // the fixture's, of the default rule
	err := a.Write(context.Background(), ref, target.Change{Set: ipset.MustParse("203.0.113.9/32")})
	var te *target.Error
	if n := proxy.Requests("ec2", "RevokeSecurityGroupEgress") - revokes; !errors.As(err, &te) || !strings.Contains(te.Hint, "maxRules") || n != 0 {
		t.Fatalf("%v; %d revokes", err, n)
	}
	f, err := a.Read(context.Background(), ref)
	if err != nil || f.Owned().String() != "[192.0.2.1/32]" {
		t.Fatalf("the group changed: %v %v", f, err)
	}
}
