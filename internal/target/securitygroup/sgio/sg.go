// Package sgio reads and changes a security group's rules (the
// security-group kind): make-before-break, authorizing the additions
// first and then revoking the owned rules no longer wanted, by rule id.
package sgio

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
)

// groupAPI is what the adapter needs of the EC2 client.
type groupAPI interface {
	DescribeSecurityGroupRules(ctx context.Context, in *ec2.DescribeSecurityGroupRulesInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupRulesOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2.AuthorizeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupEgressOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupEgress(ctx context.Context, in *ec2.RevokeSecurityGroupEgressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupEgressOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, opts ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

const kind = "security group"

// perCall bounds the ranges of one authorize: EC2 takes more, but a
// smaller request fails alone and the rest of the change stays readable.
const perCall = 50

// Adapter is the security-group target.
type Adapter struct{ api groupAPI }

// New returns an adapter over an EC2 client.
func New(api groupAPI) *Adapter { return &Adapter{api: api} }

// group reads every rule of the group (paged).
func (a *Adapter) group(ctx context.Context, ref target.Ref) (securitygroup.Group, error) {
	rule, err := securitygroup.ParseRule(ref.Options)
	if err != nil {
		return securitygroup.Group{}, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	g := securitygroup.Group{ID: ref.Resource, Rule: rule, Sid: ref.Sid}
	in := &ec2.DescribeSecurityGroupRulesInput{Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{ref.Resource}}}}
	for p := ec2.NewDescribeSecurityGroupRulesPaginator(a.api, in); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return g, classify("read", ref.Resource, err)
		}
		for _, r := range out.SecurityGroupRules {
			gr, err := groupRule(r)
			if err != nil {
				return g, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
			}
			g.Rules = append(g.Rules, gr)
		}
	}
	if len(g.Rules) == 0 {
		// A filter on a group that does not exist answers nothing: ask
		// for the group, so that a typo is not planned as an empty group.
		if _, err := a.api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{ref.Resource}}); err != nil {
			return g, classify("read", ref.Resource, err)
		}
	}
	return g, nil
}

func groupRule(r types.SecurityGroupRule) (securitygroup.GroupRule, error) {
	gr := securitygroup.GroupRule{
		ID: aws.ToString(r.SecurityGroupRuleId), Egress: aws.ToBool(r.IsEgress), Protocol: aws.ToString(r.IpProtocol),
		From: aws.ToInt32(r.FromPort), To: aws.ToInt32(r.ToPort), Description: aws.ToString(r.Description),
	}
	cidr := aws.ToString(r.CidrIpv4)
	if v6 := aws.ToString(r.CidrIpv6); v6 != "" {
		cidr, gr.IPv6 = v6, true
	}
	if cidr == "" {
		return gr, nil // a prefix list or a group: counted, never owned
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return gr, fmt.Errorf("rule %s holds %q, which is not a CIDR", gr.ID, cidr)
	}
	gr.CIDR = p.Masked().String()
	return gr, nil
}

// Read returns the target's owned rules as a fence.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	g, err := a.group(ctx, ref)
	if err != nil {
		return nil, err
	}
	f, err := securitygroup.NewFence(g)
	if err != nil {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	return f, nil
}

// Write makes the owned rules hold the change's set, reading the group
// afresh: one rule per prefix added first, then the owned rules for the
// prefixes no longer wanted revoked by id.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	g, err := a.group(ctx, ref)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	var revoke []string
	wanted := map[string]bool{}
	for _, p := range c.Set.Strings() {
		wanted[p] = true
	}
	for _, r := range g.Rules {
		if !g.Owned(r) {
			continue
		}
		have[r.CIDR] = true
		if !wanted[r.CIDR] {
			revoke = append(revoke, r.ID)
		}
	}
	var add []string
	for _, p := range c.Set.Strings() {
		if !have[p] {
			add = append(add, p)
		}
	}
	for len(add) > 0 {
		n := min(perCall, len(add))
		if err := a.authorize(ctx, g, add[:n]); err != nil {
			return err
		}
		add = add[n:]
	}
	if len(revoke) > 0 {
		return a.revoke(ctx, g, revoke)
	}
	return nil
}

func (a *Adapter) authorize(ctx context.Context, g securitygroup.Group, cidrs []string) error {
	perm := types.IpPermission{IpProtocol: aws.String(g.Rule.Protocol)}
	if g.Rule.Protocol != "-1" {
		perm.FromPort, perm.ToPort = aws.Int32(g.Rule.From), aws.Int32(g.Rule.To)
	}
	desc := aws.String(g.Sid + securitygroup.Suffix)
	for _, c := range cidrs {
		if strings.Contains(c, ":") {
			perm.Ipv6Ranges = append(perm.Ipv6Ranges, types.Ipv6Range{CidrIpv6: aws.String(c), Description: desc})
		} else {
			perm.IpRanges = append(perm.IpRanges, types.IpRange{CidrIp: aws.String(c), Description: desc})
		}
	}
	perms := []types.IpPermission{perm}
	var err error
	if g.Rule.Egress {
		_, err = a.api.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &g.ID, IpPermissions: perms})
	} else {
		_, err = a.api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &g.ID, IpPermissions: perms})
	}
	if err != nil {
		return classify("write", g.ID, fmt.Errorf("authorize %d rule(s): %w", len(cidrs), err))
	}
	return nil
}

func (a *Adapter) revoke(ctx context.Context, g securitygroup.Group, ids []string) error {
	var unknown []types.IpPermission
	var err error
	if g.Rule.Egress {
		var out *ec2.RevokeSecurityGroupEgressOutput
		if out, err = a.api.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &g.ID, SecurityGroupRuleIds: ids}); err == nil {
			unknown = out.UnknownIpPermissions
		}
	} else {
		var out *ec2.RevokeSecurityGroupIngressOutput
		if out, err = a.api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &g.ID, SecurityGroupRuleIds: ids}); err == nil {
			unknown = out.UnknownIpPermissions
		}
	}
	if err != nil {
		return classify("write", g.ID, fmt.Errorf("revoke rule(s) %s: %w", strings.Join(ids, ", "), err))
	}
	if len(unknown) > 0 {
		// EC2 answers success and lists what it did not revoke: the rules
		// are still there, and the read-back would say so less clearly.
		return &target.Error{Op: "write", Kind: kind, Resource: g.ID, Err: fmt.Errorf("EC2 did not revoke %d of the rule(s) %s (UnknownIpPermissions)", len(unknown), strings.Join(ids, ", "))}
	}
	return nil
}

func classify(op, id string, err error) error {
	e := &target.Error{Op: op, Kind: kind, Resource: id, Err: err}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return e // transport failure: no hint to give
	}
	switch api.ErrorCode() {
	case "InvalidGroup.NotFound", "InvalidGroupId.Malformed", "InvalidGroupId.NotFound":
		e.Hint = "the security group does not exist in this account and region; check the target's resource and AWS_REGION"
	case "RulesPerSecurityGroupLimitExceeded":
		e.Hint = "the group's rules quota is lower than maxRules says: set maxRules to the account's quota, or allow a prefix list in one rule instead"
	case "InvalidPermission.Duplicate":
		e.Hint = "a rule for that traffic and CIDR already exists under another description; the next run reads it as someone else's and adds nothing for it"
	case "InvalidSecurityGroupRuleId.NotFound", "InvalidPermission.NotFound":
		e.Hint = "a rule was revoked by someone else meanwhile; the next run reads the group afresh"
	case "UnauthorizedOperation", "AccessDenied":
		e.Hint = "the caller lacks ec2:DescribeSecurityGroupRules, ec2:AuthorizeSecurityGroup* or ec2:RevokeSecurityGroup* on the group"
	}
	return e
}
