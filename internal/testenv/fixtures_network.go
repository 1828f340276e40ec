package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
)

var fixtureSeq atomic.Int64

// CreateSecurityGroup makes a VPC and a security group in it, without the
// allow-all egress rule EC2 gives a new group (it would allow every
// address ipsync is asked to allow), and returns the group's id.
func CreateSecurityGroup(tb testing.TB, cfg aws.Config) string {
	tb.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		tb.Fatalf("create vpc: %v", err)
	}
	name := fmt.Sprintf("ipsync-test-%d", fixtureSeq.Add(1))
	g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: &name, Description: &name, VpcId: vpc.Vpc.VpcId})
	if err != nil {
		tb.Fatalf("create security group: %v", err)
	}
	_, err = c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("-1"), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
	}})
	if err != nil {
		tb.Fatalf("revoke the default egress rule: %v", err)
	}
	return aws.ToString(g.GroupId)
}

// AddRule authorizes one rule of someone else's (or ipsync's, by its
// description) on a group.
func AddRule(tb testing.TB, cfg aws.Config, group string, egress bool, protocol string, from, to int32, cidr, description string) {
	tb.Helper()
	perm := ec2types.IpPermission{IpProtocol: &protocol, FromPort: &from, ToPort: &to}
	if protocol == "-1" {
		perm.FromPort, perm.ToPort = nil, nil
	}
	perm.IpRanges = []ec2types.IpRange{{CidrIp: &cidr, Description: &description}}
	c := ec2.NewFromConfig(cfg)
	var err error
	if egress {
		_, err = c.AuthorizeSecurityGroupEgress(context.Background(), &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &group, IpPermissions: []ec2types.IpPermission{perm}})
	} else {
		_, err = c.AuthorizeSecurityGroupIngress(context.Background(), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &group, IpPermissions: []ec2types.IpPermission{perm}})
	}
	if err != nil {
		tb.Fatalf("authorize %s: %v", cidr, err)
	}
}

// PrefixListEntry is an entry a test list starts with.
type PrefixListEntry struct{ CIDR, Description string }

// CreatePrefixList makes a customer-managed prefix list and returns its id.
func CreatePrefixList(tb testing.TB, cfg aws.Config, family string, maxEntries int32, entries ...PrefixListEntry) string {
	tb.Helper()
	in := &ec2.CreateManagedPrefixListInput{
		PrefixListName: aws.String(fmt.Sprintf("ipsync-test-%d", fixtureSeq.Add(1))),
		AddressFamily:  &family, MaxEntries: &maxEntries,
	}
	for _, e := range entries {
		in.Entries = append(in.Entries, ec2types.AddPrefixListEntry{Cidr: aws.String(e.CIDR), Description: aws.String(e.Description)})
	}
	out, err := ec2.NewFromConfig(cfg).CreateManagedPrefixList(context.Background(), in)
	if err != nil {
		tb.Fatalf("create prefix list: %v", err)
	}
	return aws.ToString(out.PrefixList.PrefixListId)
}

// CreateIPSet makes a regional WAF IP set and returns its ARN.
func CreateIPSet(tb testing.TB, cfg aws.Config, description, version string, addrs ...string) string {
	tb.Helper()
	if addrs == nil {
		addrs = []string{}
	}
	out, err := wafv2.NewFromConfig(cfg).CreateIPSet(context.Background(), &wafv2.CreateIPSetInput{
		Name: aws.String(fmt.Sprintf("ipsync-test-%d", fixtureSeq.Add(1))), Scope: waftypes.ScopeRegional,
		IPAddressVersion: waftypes.IPAddressVersion(version), Addresses: addrs, Description: &description,
	})
	if err != nil {
		tb.Fatalf("create IP set: %v", err)
	}
	return aws.ToString(out.Summary.ARN)
}
