package sgio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// fakeGroup answers as EC2 would for one group, and records the writes.
type fakeGroup struct {
	rules              []types.SecurityGroupRule
	unknown            []types.IpPermission // what a revoke says it did not revoke
	authorized, revoke []string
	egressCalls        int
}

func (f *fakeGroup) DescribeSecurityGroupRules(context.Context, *ec2.DescribeSecurityGroupRulesInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupRulesOutput, error) {
	return &ec2.DescribeSecurityGroupRulesOutput{SecurityGroupRules: f.rules}, nil
}
func (f *fakeGroup) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InvalidGroup.NotFound"}
}
func (f *fakeGroup) AuthorizeSecurityGroupEgress(_ context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error) {
	f.egressCalls++
	f.record(in.IpPermissions)
	return &ec2.AuthorizeSecurityGroupEgressOutput{}, nil
}
func (f *fakeGroup) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	f.record(in.IpPermissions)
	return &ec2.AuthorizeSecurityGroupIngressOutput{}, nil
}
func (f *fakeGroup) RevokeSecurityGroupEgress(_ context.Context, in *ec2.RevokeSecurityGroupEgressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error) {
	f.egressCalls++
	f.revoke = append(f.revoke, in.SecurityGroupRuleIds...)
	return &ec2.RevokeSecurityGroupEgressOutput{Return: aws.Bool(true), UnknownIpPermissions: f.unknown}, nil
}
func (f *fakeGroup) RevokeSecurityGroupIngress(_ context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	f.revoke = append(f.revoke, in.SecurityGroupRuleIds...)
	return &ec2.RevokeSecurityGroupIngressOutput{Return: aws.Bool(true), UnknownIpPermissions: f.unknown}, nil
}

func (f *fakeGroup) record(perms []types.IpPermission) {
	for _, p := range perms {
		for _, r := range p.IpRanges {
			f.authorized = append(f.authorized, aws.ToString(r.CidrIp)+" "+aws.ToString(r.Description))
		}
		for _, r := range p.Ipv6Ranges {
			f.authorized = append(f.authorized, aws.ToString(r.CidrIpv6)+" "+aws.ToString(r.Description))
		}
	}
}

func rule(id string, egress bool, cidr, desc string) types.SecurityGroupRule {
	return types.SecurityGroupRule{SecurityGroupRuleId: &id, IsEgress: &egress, IpProtocol: aws.String("tcp"), FromPort: aws.Int32(27017), ToPort: aws.Int32(27017), CidrIpv4: &cidr, Description: &desc}
}

var ingress = target.Options{Direction: "ingress", Protocol: "tcp", Ports: "27017"}

// An ingress target writes ingress rules only, IPv6 in its own ranges, and
// revokes by rule id.
func TestIngressRulesByID(t *testing.T) {
	f := &fakeGroup{rules: []types.SecurityGroupRule{rule("sgr-1", false, "192.0.2.1/32", "ipsync: managed"), rule("sgr-2", true, "192.0.2.2/32", "ipsync: managed")}}
	a := New(f)
	ref := target.Ref{Resource: "sg-0123abcd", Sid: "ipsync:", Options: ingress}
	if err := a.Write(context.Background(), ref, target.Change{Set: ipset.MustParse("198.51.100.1/32", "2001:db8::1/128")}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.authorized, ", ") != "198.51.100.1/32 ipsync: managed, 2001:db8::1/128 ipsync: managed" || strings.Join(f.revoke, ",") != "sgr-1" || f.egressCalls != 0 {
		t.Fatalf("authorized %v, revoked %v, egress calls %d", f.authorized, f.revoke, f.egressCalls)
	}
}

// EC2 answers a revoke with success and lists what it did not revoke: the
// write fails, saying so, instead of waiting for the read-back to notice.
func TestUnknownIpPermissionsFailTheWrite(t *testing.T) {
	f := &fakeGroup{rules: []types.SecurityGroupRule{rule("sgr-1", false, "192.0.2.1/32", "ipsync: managed")}, unknown: []types.IpPermission{{IpProtocol: aws.String("tcp")}}}
	err := New(f).Write(context.Background(), target.Ref{Resource: "sg-0123abcd", Sid: "ipsync:", Options: ingress}, target.Change{Set: ipset.MustParse("198.51.100.1/32")})
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "did not revoke 1 of the rule(s) sgr-1 (UnknownIpPermissions)") {
		t.Fatalf("%v", err)
	}
}

// A group that answers no rule is asked for: a missing group is an error,
// not an empty fence to fill.
func TestNoRulesAsksWhetherTheGroupExists(t *testing.T) {
	_, err := New(&fakeGroup{}).Read(context.Background(), target.Ref{Resource: "sg-0123abcd", Sid: "ipsync:", Options: ingress})
	var te *target.Error
	if !errors.As(err, &te) || !strings.Contains(te.Hint, "does not exist") {
		t.Fatalf("%v", err)
	}
}
