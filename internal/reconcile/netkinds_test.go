package reconcile_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The network kinds in the scenario table. Their fence is no document: each
// reads its owned part and the rest through the service, and a human's edit
// of the owned part is made through it too. Each starts with parts of
// another owner, which no scenario may see changed.

const netSid = "atlas-ip-sync:"

var securityGroupKind = kind{
	name: securitygroup.Type, sid: netSid, writeOp: "AuthorizeSecurityGroupEgress", alsoWrites: []string{"RevokeSecurityGroupEgress"},
	readOp:     "DescribeSecurityGroupRules",
	targetKeys: "    direction: egress\n    protocol: tcp\n    ports: \"27015-27017\"\n",
	create: func(t testing.TB, cfg aws.Config, values ...string) string {
		g := testenv.CreateSecurityGroup(t, cfg)
		for _, v := range values {
			testenv.AddRule(t, cfg, g, true, "tcp", 27015, 27017, v, netSid+securitygroup.Suffix)
		}
		testenv.AddRule(t, cfg, g, true, "tcp", 443, 443, "203.0.113.200/32", "https to the vendor")
		testenv.AddRule(t, cfg, g, false, "tcp", 27015, 27017, "203.0.113.201/32", netSid+" on ingress: not the target's")
		return g
	},
	owned:    func(t testing.TB, s *stack) []string { return ownedOf(groupRules(t, s)) },
	getLive:  func(t testing.TB, s *stack) string { return dump(groupRules(t, s)) },
	outside:  func(t testing.TB, s *stack) any { return dump(othersOf(groupRules(t, s))) },
	setOwned: setGroupRules,
	tooMany:  100, oversizeWant: "at its peak",
}

var prefixListKind = kind{
	name: prefixlist.Type, sid: netSid, writeOp: "ModifyManagedPrefixList",
	readOp: "DescribeManagedPrefixLists", alsoReads: []string{"GetManagedPrefixListEntries"},
	create: func(t testing.TB, cfg aws.Config, values ...string) string {
		entries := []testenv.PrefixListEntry{{CIDR: "203.0.113.0/24", Description: "office VPN"}}
		for _, v := range values {
			entries = append(entries, testenv.PrefixListEntry{CIDR: v, Description: netSid + prefixlist.Suffix})
		}
		return testenv.CreatePrefixList(t, cfg, "IPv4", 50, entries...)
	},
	owned:    func(t testing.TB, s *stack) []string { return ownedOf(listEntries(t, s)) },
	getLive:  func(t testing.TB, s *stack) string { return dump(listEntries(t, s)) },
	outside:  func(t testing.TB, s *stack) any { return dump(othersOf(listEntries(t, s))) },
	setOwned: setListEntries,
	tooMany:  100, oversizeWant: "raise the list's MaxEntries to at least",
}

var ipSetKind = kind{
	name: wafipset.Type, sid: "atlas-ip-sync", writeOp: "UpdateIPSet", readOp: "GetIPSet",
	create: func(t testing.TB, cfg aws.Config, values ...string) string {
		return testenv.CreateIPSet(t, cfg, "atlas-ip-sync webhook receiver", "IPV4", values...)
	},
	owned: func(t testing.TB, s *stack) []string {
		return ipset.MustParse(getIPSet(t, s).IPSet.Addresses...).Strings()
	},
	getLive: func(t testing.TB, s *stack) string {
		set := getIPSet(t, s).IPSet
		return aws.ToString(set.Description) + "\n" + strings.Join(ipset.MustParse(set.Addresses...).Strings(), " ")
	},
	outside:  func(t testing.TB, s *stack) any { return aws.ToString(getIPSet(t, s).IPSet.Description) },
	setOwned: func(t testing.TB, s *stack, values ...string) { updateIPSet(t, s, "", values) },
	notOwned: func(t testing.TB, s *stack) {
		updateIPSet(t, s, "team firewall", ipset.MustParse(getIPSet(t, s).IPSet.Addresses...).Strings())
	},
	notOwnedWant: []string{`description "team firewall" does not start with "atlas-ip-sync"`},
	tooMany:      10001, oversizeWant: "would hold 10002 entries; the limit is 10000",
}

// part is one rule or entry: its CIDR and its description.
type part struct{ cidr, desc string }

func (p part) owned() bool { return strings.HasPrefix(p.desc, netSid) }

func ownedOf(ps []part) []string {
	var v []string
	for _, p := range ps {
		if p.owned() {
			v = append(v, p.cidr)
		}
	}
	return ipset.MustParse(v...).Strings()
}

func othersOf(ps []part) []part {
	return slices.DeleteFunc(slices.Clone(ps), func(p part) bool { return p.owned() })
}

func dump(ps []part) string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.cidr+" "+p.desc)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// groupRules are the group's egress rules of the target's traffic (the
// others are folded into the description so that a change to them shows).
func groupRules(t testing.TB, s *stack) []part {
	t.Helper()
	out, err := ec2.NewFromConfig(s.rawAWS).DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{s.resource}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ps []part
	for _, r := range out.SecurityGroupRules {
		p := part{cidr: aws.ToString(r.CidrIpv4) + aws.ToString(r.CidrIpv6), desc: aws.ToString(r.Description)}
		if !aws.ToBool(r.IsEgress) || aws.ToInt32(r.FromPort) != 27015 {
			p.desc = fmt.Sprintf("[egress %v port %d] %s", aws.ToBool(r.IsEgress), aws.ToInt32(r.FromPort), p.desc)
		}
		ps = append(ps, p)
	}
	return ps
}

// setGroupRules is a human making the owned rules allow values.
func setGroupRules(t testing.TB, s *stack, values ...string) {
	t.Helper()
	c := ec2.NewFromConfig(s.rawAWS)
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	out, err := c.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{s.resource}}}})
	if err != nil {
		t.Fatal(err)
	}
	var revoke []string
	for _, r := range out.SecurityGroupRules {
		cidr := aws.ToString(r.CidrIpv4)
		if aws.ToBool(r.IsEgress) && aws.ToInt32(r.FromPort) == 27015 && strings.HasPrefix(aws.ToString(r.Description), netSid) {
			if want[cidr] {
				delete(want, cidr)
			} else {
				revoke = append(revoke, aws.ToString(r.SecurityGroupRuleId))
			}
		}
	}
	for v := range want {
		testenv.AddRule(t, s.rawAWS, s.resource, true, "tcp", 27015, 27017, v, netSid+" added by hand")
	}
	if len(revoke) > 0 {
		if _, err := c.RevokeSecurityGroupEgress(context.Background(), &ec2.RevokeSecurityGroupEgressInput{GroupId: &s.resource, SecurityGroupRuleIds: revoke}); err != nil {
			t.Fatal(err)
		}
	}
}

func listEntries(t testing.TB, s *stack) []part {
	t.Helper()
	out, err := ec2.NewFromConfig(s.rawAWS).GetManagedPrefixListEntries(context.Background(), &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &s.resource})
	if err != nil {
		t.Fatal(err)
	}
	var ps []part
	for _, e := range out.Entries {
		ps = append(ps, part{cidr: aws.ToString(e.Cidr), desc: aws.ToString(e.Description)})
	}
	return ps
}

func setListEntries(t testing.TB, s *stack, values ...string) {
	t.Helper()
	c := ec2.NewFromConfig(s.rawAWS)
	l, err := c.DescribeManagedPrefixLists(context.Background(), &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{s.resource}})
	if err != nil {
		t.Fatal(err)
	}
	in := &ec2.ModifyManagedPrefixListInput{PrefixListId: &s.resource, CurrentVersion: l.PrefixLists[0].Version}
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	for _, p := range listEntries(t, s) {
		switch {
		case !p.owned():
		case want[p.cidr]:
			delete(want, p.cidr)
		default:
			in.RemoveEntries = append(in.RemoveEntries, ec2types.RemovePrefixListEntry{Cidr: aws.String(p.cidr)})
		}
	}
	for v := range want {
		in.AddEntries = append(in.AddEntries, ec2types.AddPrefixListEntry{Cidr: aws.String(v), Description: aws.String(netSid + " added by hand")})
	}
	if _, err := c.ModifyManagedPrefixList(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func ipSetLocation(s *stack) (name, id string) {
	p := strings.Split(s.resource, "/")
	return p[2], p[3]
}

func getIPSet(t testing.TB, s *stack) *wafv2.GetIPSetOutput {
	t.Helper()
	name, id := ipSetLocation(s)
	out, err := wafv2.NewFromConfig(s.rawAWS).GetIPSet(context.Background(), &wafv2.GetIPSetInput{Name: &name, Id: &id, Scope: waftypes.ScopeRegional})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// updateIPSet is a human changing the set: its addresses, and its
// description unless desc is "".
func updateIPSet(t testing.TB, s *stack, desc string, addrs []string) {
	t.Helper()
	cur := getIPSet(t, s)
	if desc == "" {
		desc = aws.ToString(cur.IPSet.Description)
	}
	name, id := ipSetLocation(s)
	if addrs == nil {
		addrs = []string{}
	}
	_, err := wafv2.NewFromConfig(s.rawAWS).UpdateIPSet(context.Background(), &wafv2.UpdateIPSetInput{Name: &name, Id: &id, Scope: waftypes.ScopeRegional,
		Addresses: addrs, Description: &desc, LockToken: cur.LockToken})
	if err != nil {
		t.Fatal(err)
	}
}

// addForeign gives a rule or entry of another owner the address cidr (the
// database team's rule, say); removeForeign takes it away again.
func addForeign(t testing.TB, s *stack, cidr string) {
	t.Helper()
	switch s.k.name {
	case securitygroup.Type:
		testenv.AddRule(t, s.rawAWS, s.resource, true, "tcp", 27015, 27017, cidr, "db team")
	case prefixlist.Type:
		modifyList(t, s, []ec2types.AddPrefixListEntry{{Cidr: &cidr, Description: aws.String("db team")}}, nil)
	case azurekeyvault.Type:
		v := s.az.Vault(s.resource)
		acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
		acls["ipRules"] = append(acls["ipRules"].([]any), map[string]any{"value": cidr})
		s.az.SetVault(v)
		s.azOthers = append(s.azOthers, norm(cidr))
	}
}

func removeForeign(t testing.TB, s *stack, cidr string) {
	t.Helper()
	switch s.k.name {
	case securitygroup.Type:
		perm := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(27015), ToPort: aws.Int32(27017), IpRanges: []ec2types.IpRange{{CidrIp: &cidr}}}
		if _, err := ec2.NewFromConfig(s.rawAWS).RevokeSecurityGroupEgress(context.Background(), &ec2.RevokeSecurityGroupEgressInput{GroupId: &s.resource, IpPermissions: []ec2types.IpPermission{perm}}); err != nil {
			t.Fatal(err)
		}
	case prefixlist.Type:
		modifyList(t, s, nil, []ec2types.RemovePrefixListEntry{{Cidr: &cidr}})
	case azurekeyvault.Type:
		v := s.az.Vault(s.resource)
		acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
		var kept []any
		for _, r := range acls["ipRules"].([]any) {
			if norm(r.(map[string]any)["value"].(string)) != norm(cidr) {
				kept = append(kept, r)
			}
		}
		acls["ipRules"] = kept
		s.az.SetVault(v)
		s.azOthers = slices.DeleteFunc(s.azOthers, func(o string) bool { return o == norm(cidr) })
	}
}

func modifyList(t testing.TB, s *stack, add []ec2types.AddPrefixListEntry, remove []ec2types.RemovePrefixListEntry) {
	t.Helper()
	c := ec2.NewFromConfig(s.rawAWS)
	l, err := c.DescribeManagedPrefixLists(context.Background(), &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{s.resource}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyManagedPrefixList(context.Background(), &ec2.ModifyManagedPrefixListInput{PrefixListId: &s.resource, CurrentVersion: l.PrefixLists[0].Version, AddEntries: add, RemoveEntries: remove}); err != nil {
		t.Fatal(err)
	}
}

// A rule or entry of another owner that allows an address ipsync wants is
// left as it is, and ipsync adds nothing for that address until it goes;
// a list or set of one address family leaves the other family out, and
// says so. A security group carries both, each in its own range list, and
// an access level both in its conditions.
func TestNetworkKindsLeaveOthersAndOtherFamiliesAlone(t *testing.T) {
	forKindsWhere(t, func(k kind) bool { return k.setOwned != nil }, func(t *testing.T, k kind) {
		s := newStack(t, k, "")
		s.sim.SetProject(project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10", "2001:db8::10"}})
		// An IP set or access level is ipsync's whole: nobody else's part.
		owner := k.name == securitygroup.Type || k.name == prefixlist.Type || k.name == azurekeyvault.Type
		if owner {
			addForeign(t, s, "3.92.113.229/32")
		}
		r := s.run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied {
			t.Fatalf("run: %s %v %q", tp.Status, r.Err, tp.Reason)
		}
		want := "3.92.113.229/32 3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"
		if owner {
			want = "3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"
			if !strings.Contains(tp.Reason, "already allowed by "+k.otherWords()+" with the same prefix, so ipsync adds nothing for: [3.92.113.229/32]") {
				t.Errorf("reason %q does not say the address is already allowed", tp.Reason)
			}
		}
		if k.name == securitygroup.Type || k.name == gcpaccesslevel.Type {
			want += " 2001:db8::10/128"
		} else if !strings.Contains(tp.Reason, "left out, the fence cannot carry their address family: [2001:db8::10/128]") {
			t.Errorf("reason %q does not say the IPv6 address was left out", tp.Reason)
		}
		if got := k.live(t, s); got != want {
			t.Fatalf("owned part %s, want %s", got, want)
		}
		if mark := map[bool]string{true: "", false: " db team"}[k.recorded]; owner && !strings.Contains(k.getLive(t, s), "3.92.113.229/32"+mark) {
			t.Fatalf("the other owner's part changed:\n%s", k.getLive(t, s))
		}
		if r := s.run(t, reconcile.Options{}); r.Status != plan.InSync {
			t.Fatalf("second run: %s %q", r.Status, r.Targets[0].Reason)
		}
		if !owner {
			return
		}
		// The other owner's part goes: ipsync's own rule or entry takes over.
		removeForeign(t, s, "3.92.113.229/32")
		if r := s.run(t, reconcile.Options{}); r.Targets[0].Status != plan.Applied || r.Targets[0].Add.String() != "[3.92.113.229/32]" {
			t.Fatalf("after the other rule went: %s %v", r.Targets[0].Status, r.Targets[0].Add)
		}
	})
}

// A broader rule or entry of another owner — a group's default allow-all
// egress rule, a list's /16 — counts for nothing: ipsync writes its own
// for every address, so the day the security team removes the broad one,
// Atlas's traffic goes on (issue 30). The other owner's part is untouched.
func TestABroaderRuleOfAnotherOwnerCountsForNothing(t *testing.T) {
	forKindsWhere(t, func(k kind) bool {
		return k.name == securitygroup.Type || k.name == prefixlist.Type || k.name == azurekeyvault.Type
	}, func(t *testing.T, k kind) {
		s := newStack(t, k, "")
		broad := "3.92.0.0/16"
		if k.name == securitygroup.Type {
			broad = "0.0.0.0/0"
			testenv.AddRule(t, s.rawAWS, s.resource, true, "-1", 0, 0, broad, "default egress")
		} else {
			addForeign(t, s, broad)
		}
		r := s.run(t, reconcile.Options{})
		tp := r.Targets[0]
		if r.Err != nil || tp.Status != plan.Applied || strings.Contains(tp.Reason, "already allowed") {
			t.Fatalf("run: %s %v %q", tp.Status, r.Err, tp.Reason)
		}
		if got, want := k.live(t, s), "3.92.113.229/32 3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"; got != want {
			t.Fatalf("owned part %s, want %s", got, want)
		}
		if !strings.Contains(k.getLive(t, s), broad) {
			t.Fatalf("the other owner's %s is gone:\n%s", broad, k.getLive(t, s))
		}
		if k.name == securitygroup.Type {
			perm := ec2types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: &broad}}}
			if _, err := ec2.NewFromConfig(s.rawAWS).RevokeSecurityGroupEgress(context.Background(), &ec2.RevokeSecurityGroupEgressInput{GroupId: &s.resource, IpPermissions: []ec2types.IpPermission{perm}}); err != nil {
				t.Fatal(err)
			}
		} else {
			removeForeign(t, s, broad)
		}
		if r := s.run(t, reconcile.Options{}); r.Status != plan.InSync {
			t.Fatalf("after the broad part went: %s %q", r.Status, r.Targets[0].Reason)
		}
	})
}

func (k kind) otherWords() string {
	switch k.name {
	case securitygroup.Type:
		return "a rule ipsync does not own"
	case azurekeyvault.Type:
		return "an IP rule ipsync did not write"
	}
	return "an entry ipsync does not own"
}
