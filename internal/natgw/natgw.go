// Package natgw finds the Elastic IPs of NAT gateways by tag: the addresses
// an account's applications reach Atlas from, which an atlas-access-list
// target allows.
package natgw

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// natAPI is what the reader needs of the EC2 client.
type natAPI interface {
	DescribeNatGateways(ctx context.Context, in *ec2.DescribeNatGatewaysInput, opts ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error)
}

// Reader reads NAT gateways, through a client per role (empty: the run's
// own account).
type Reader struct {
	ForRole func(roleArn string) natAPI
}

// New returns a reader; forRole gives the EC2 client acting as a role.
func New[C natAPI](forRole func(roleArn string) C) *Reader {
	return &Reader{ForRole: func(r string) natAPI { return forRole(r) }}
}

// PublicIPs returns the public addresses of the available NAT gateways
// tagged tagKey=tagValue. None found is no error: the guards decide.
func (r *Reader) PublicIPs(ctx context.Context, roleArn, tagKey, tagValue string) (ipset.Set, error) {
	api := r.ForRole(roleArn)
	in := &ec2.DescribeNatGatewaysInput{Filter: []types.Filter{
		{Name: aws.String("tag:" + tagKey), Values: []string{tagValue}},
		{Name: aws.String("state"), Values: []string{"available"}},
	}}
	var ips []string
	p := ec2.NewDescribeNatGatewaysPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ipset.Set{}, fmt.Errorf("describe NAT gateways tagged %s=%s: %w", tagKey, tagValue, err)
		}
		for _, gw := range page.NatGateways {
			// Checked here too: a service (or an emulator) that ignores the
			// filter must not widen an access list.
			if !tagged(gw.Tags, tagKey, tagValue) || gw.State != types.NatGatewayStateAvailable {
				continue
			}
			for _, a := range gw.NatGatewayAddresses {
				if a.PublicIp != nil {
					ips = append(ips, *a.PublicIp)
				}
			}
		}
	}
	set, err := ipset.Parse(ips)
	if err != nil {
		return ipset.Set{}, fmt.Errorf("NAT gateways tagged %s=%s: %w", tagKey, tagValue, err)
	}
	return set, nil
}

func tagged(tags []types.Tag, key, value string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == key && aws.ToString(t.Value) == value {
			return true
		}
	}
	return false
}
