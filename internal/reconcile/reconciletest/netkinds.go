package reconciletest

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

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const NetSid = "atlas-ip-sync:"

var SecurityGroupKind = Kind{
	Name: securitygroup.Type, Sid: NetSid, WriteOp: "AuthorizeSecurityGroupEgress", AlsoWrites: []string{"RevokeSecurityGroupEgress"},
	ReadOp:     "DescribeSecurityGroupRules",
	TargetKeys: "    direction: egress\n    protocol: tcp\n    ports: \"27015-27017\"\n",
	Create: func(t testing.TB, cfg aws.Config, values ...string) string {
		g := testenv.CreateSecurityGroup(t, cfg)
		for _, v := range values {
			testenv.AddRule(t, cfg, g, true, "tcp", 27015, 27017, v, NetSid+securitygroup.Suffix)
		}
		testenv.AddRule(t, cfg, g, true, "tcp", 443, 443, "203.0.113.200/32", "https to the vendor")
		testenv.AddRule(t, cfg, g, false, "tcp", 27015, 27017, "203.0.113.201/32", NetSid+" on ingress: not the target's")
		return g
	},
	Owned:    func(t testing.TB, s *Stack) []string { return OwnedOf(GroupRules(t, s)) },
	GetLive:  func(t testing.TB, s *Stack) string { return Dump(GroupRules(t, s)) },
	Outside:  func(t testing.TB, s *Stack) any { return Dump(OthersOf(GroupRules(t, s))) },
	SetOwned: SetGroupRules,
	TooMany:  100, OversizeWant: "at its peak",
}

var PrefixListKind = Kind{
	Name: prefixlist.Type, Sid: NetSid, WriteOp: "ModifyManagedPrefixList",
	ReadOp: "DescribeManagedPrefixLists", AlsoReads: []string{"GetManagedPrefixListEntries"},
	Create: func(t testing.TB, cfg aws.Config, values ...string) string {
		entries := []testenv.PrefixListEntry{{CIDR: "203.0.113.0/24", Description: "office VPN"}}
		for _, v := range values {
			entries = append(entries, testenv.PrefixListEntry{CIDR: v, Description: NetSid + prefixlist.Suffix})
		}
		return testenv.CreatePrefixList(t, cfg, "IPv4", 50, entries...)
	},
	Owned:    func(t testing.TB, s *Stack) []string { return OwnedOf(ListEntries(t, s)) },
	GetLive:  func(t testing.TB, s *Stack) string { return Dump(ListEntries(t, s)) },
	Outside:  func(t testing.TB, s *Stack) any { return Dump(OthersOf(ListEntries(t, s))) },
	SetOwned: SetListEntries,
	TooMany:  100, OversizeWant: "raise the list's MaxEntries to at least",
}

var IPSetKind = Kind{
	Name: wafipset.Type, Sid: "atlas-ip-sync", WriteOp: "UpdateIPSet", ReadOp: "GetIPSet",
	Create: func(t testing.TB, cfg aws.Config, values ...string) string {
		return testenv.CreateIPSet(t, cfg, "atlas-ip-sync webhook receiver", "IPV4", values...)
	},
	Owned: func(t testing.TB, s *Stack) []string {
		return ipset.MustParse(GetIPSet(t, s).IPSet.Addresses...).Strings()
	},
	GetLive: func(t testing.TB, s *Stack) string {
		set := GetIPSet(t, s).IPSet
		return aws.ToString(set.Description) + "\n" + strings.Join(ipset.MustParse(set.Addresses...).Strings(), " ")
	},
	Outside:  func(t testing.TB, s *Stack) any { return aws.ToString(GetIPSet(t, s).IPSet.Description) },
	SetOwned: func(t testing.TB, s *Stack, values ...string) { UpdateIPSet(t, s, "", values) },
	NotOwned: func(t testing.TB, s *Stack) {
		UpdateIPSet(t, s, "team firewall", ipset.MustParse(GetIPSet(t, s).IPSet.Addresses...).Strings())
	},
	NotOwnedWant: []string{`description "team firewall" does not start with "atlas-ip-sync"`},
	TooMany:      10001, OversizeWant: "would hold 10002 entries; the limit is 10000",
}

// Part is one rule or entry: its CIDR and its description.
type Part struct{ CIDR, Desc string }

func (p Part) Owned() bool { return strings.HasPrefix(p.Desc, NetSid) }

func OwnedOf(ps []Part) []string {
	var v []string
	for _, p := range ps {
		if p.Owned() {
			v = append(v, p.CIDR)
		}
	}
	return ipset.MustParse(v...).Strings()
}

func OthersOf(ps []Part) []Part {
	return slices.DeleteFunc(slices.Clone(ps), func(p Part) bool { return p.Owned() })
}

func Dump(ps []Part) string {
	var lines []string
	for _, p := range ps {
		lines = append(lines, p.CIDR+" "+p.Desc)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// GroupRules are the group's egress rules of the target's traffic (the
// others are folded into the description so that a change to them shows).
func GroupRules(t testing.TB, s *Stack) []Part {
	t.Helper()
	out, err := ec2.NewFromConfig(s.RawAWS).DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{s.Resource}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ps []Part
	for _, r := range out.SecurityGroupRules {
		p := Part{CIDR: aws.ToString(r.CidrIpv4) + aws.ToString(r.CidrIpv6), Desc: aws.ToString(r.Description)}
		if !aws.ToBool(r.IsEgress) || aws.ToInt32(r.FromPort) != 27015 {
			p.Desc = fmt.Sprintf("[egress %v port %d] %s", aws.ToBool(r.IsEgress), aws.ToInt32(r.FromPort), p.Desc)
		}
		ps = append(ps, p)
	}
	return ps
}

// SetGroupRules is a human making the owned rules allow values.
func SetGroupRules(t testing.TB, s *Stack, values ...string) {
	t.Helper()
	c := ec2.NewFromConfig(s.RawAWS)
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	out, err := c.DescribeSecurityGroupRules(context.Background(), &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{s.Resource}}}})
	if err != nil {
		t.Fatal(err)
	}
	var revoke []string
	for _, r := range out.SecurityGroupRules {
		cidr := aws.ToString(r.CidrIpv4)
		if aws.ToBool(r.IsEgress) && aws.ToInt32(r.FromPort) == 27015 && strings.HasPrefix(aws.ToString(r.Description), NetSid) {
			if want[cidr] {
				delete(want, cidr)
			} else {
				revoke = append(revoke, aws.ToString(r.SecurityGroupRuleId))
			}
		}
	}
	for v := range want {
		testenv.AddRule(t, s.RawAWS, s.Resource, true, "tcp", 27015, 27017, v, NetSid+" added by hand")
	}
	if len(revoke) > 0 {
		if _, err := c.RevokeSecurityGroupEgress(context.Background(), &ec2.RevokeSecurityGroupEgressInput{GroupId: &s.Resource, SecurityGroupRuleIds: revoke}); err != nil {
			t.Fatal(err)
		}
	}
}

func ListEntries(t testing.TB, s *Stack) []Part {
	t.Helper()
	out, err := ec2.NewFromConfig(s.RawAWS).GetManagedPrefixListEntries(context.Background(), &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &s.Resource})
	if err != nil {
		t.Fatal(err)
	}
	var ps []Part
	for _, e := range out.Entries {
		ps = append(ps, Part{CIDR: aws.ToString(e.Cidr), Desc: aws.ToString(e.Description)})
	}
	return ps
}

func SetListEntries(t testing.TB, s *Stack, values ...string) {
	t.Helper()
	c := ec2.NewFromConfig(s.RawAWS)
	l, err := c.DescribeManagedPrefixLists(context.Background(), &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{s.Resource}})
	if err != nil {
		t.Fatal(err)
	}
	in := &ec2.ModifyManagedPrefixListInput{PrefixListId: &s.Resource, CurrentVersion: l.PrefixLists[0].Version}
	want := map[string]bool{}
	for _, v := range values {
		want[v] = true
	}
	for _, p := range ListEntries(t, s) {
		switch {
		case !p.Owned():
		case want[p.CIDR]:
			delete(want, p.CIDR)
		default:
			in.RemoveEntries = append(in.RemoveEntries, ec2types.RemovePrefixListEntry{Cidr: aws.String(p.CIDR)})
		}
	}
	for v := range want {
		in.AddEntries = append(in.AddEntries, ec2types.AddPrefixListEntry{Cidr: aws.String(v), Description: aws.String(NetSid + " added by hand")})
	}
	if _, err := c.ModifyManagedPrefixList(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

func IPSetLocation(s *Stack) (name, id string) {
	p := strings.Split(s.Resource, "/")
	return p[2], p[3]
}

func GetIPSet(t testing.TB, s *Stack) *wafv2.GetIPSetOutput {
	t.Helper()
	name, id := IPSetLocation(s)
	out, err := wafv2.NewFromConfig(s.RawAWS).GetIPSet(context.Background(), &wafv2.GetIPSetInput{Name: &name, Id: &id, Scope: waftypes.ScopeRegional})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// UpdateIPSet is a human changing the set: its addresses, and its
// description unless desc is "".
func UpdateIPSet(t testing.TB, s *Stack, desc string, addrs []string) {
	t.Helper()
	cur := GetIPSet(t, s)
	if desc == "" {
		desc = aws.ToString(cur.IPSet.Description)
	}
	name, id := IPSetLocation(s)
	if addrs == nil {
		addrs = []string{}
	}
	_, err := wafv2.NewFromConfig(s.RawAWS).UpdateIPSet(context.Background(), &wafv2.UpdateIPSetInput{Name: &name, Id: &id, Scope: waftypes.ScopeRegional,
		Addresses: addrs, Description: &desc, LockToken: cur.LockToken})
	if err != nil {
		t.Fatal(err)
	}
}

// AddForeign gives a rule or entry of another owner the address cidr (the
// database team's rule, say); removeForeign takes it away again.
func AddForeign(t testing.TB, s *Stack, cidr string) {
	t.Helper()
	switch s.K.Name {
	case securitygroup.Type:
		testenv.AddRule(t, s.RawAWS, s.Resource, true, "tcp", 27015, 27017, cidr, "db team")
	case prefixlist.Type:
		ModifyList(t, s, []ec2types.AddPrefixListEntry{{Cidr: &cidr, Description: aws.String("db team")}}, nil)
	case azurekeyvault.Type:
		v := s.Az.Vault(s.Resource)
		acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
		acls["ipRules"] = append(acls["ipRules"].([]any), map[string]any{"value": cidr})
		s.Az.SetVault(v)
		s.AzOthers = append(s.AzOthers, Norm(cidr))
	}
}

func RemoveForeign(t testing.TB, s *Stack, cidr string) {
	t.Helper()
	switch s.K.Name {
	case securitygroup.Type:
		perm := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(27015), ToPort: aws.Int32(27017), IpRanges: []ec2types.IpRange{{CidrIp: &cidr}}}
		if _, err := ec2.NewFromConfig(s.RawAWS).RevokeSecurityGroupEgress(context.Background(), &ec2.RevokeSecurityGroupEgressInput{GroupId: &s.Resource, IpPermissions: []ec2types.IpPermission{perm}}); err != nil {
			t.Fatal(err)
		}
	case prefixlist.Type:
		ModifyList(t, s, nil, []ec2types.RemovePrefixListEntry{{Cidr: &cidr}})
	case azurekeyvault.Type:
		v := s.Az.Vault(s.Resource)
		acls := v["properties"].(map[string]any)["networkAcls"].(map[string]any)
		var kept []any
		for _, r := range acls["ipRules"].([]any) {
			if Norm(r.(map[string]any)["value"].(string)) != Norm(cidr) {
				kept = append(kept, r)
			}
		}
		acls["ipRules"] = kept
		s.Az.SetVault(v)
		s.AzOthers = slices.DeleteFunc(s.AzOthers, func(o string) bool { return o == Norm(cidr) })
	}
}

func ModifyList(t testing.TB, s *Stack, add []ec2types.AddPrefixListEntry, remove []ec2types.RemovePrefixListEntry) {
	t.Helper()
	c := ec2.NewFromConfig(s.RawAWS)
	l, err := c.DescribeManagedPrefixLists(context.Background(), &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{s.Resource}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyManagedPrefixList(context.Background(), &ec2.ModifyManagedPrefixListInput{PrefixListId: &s.Resource, CurrentVersion: l.PrefixLists[0].Version, AddEntries: add, RemoveEntries: remove}); err != nil {
		t.Fatal(err)
	}
}

func (k Kind) OtherWords() string {
	switch k.Name {
	case securitygroup.Type:
		return "a rule ipsync does not own"
	case azurekeyvault.Type:
		return "an IP rule ipsync did not write"
	}
	return "an entry ipsync does not own"
}
