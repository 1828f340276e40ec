package natgw

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fakeEC2 ignores the filters, as an emulator may.
type fakeEC2 struct{ gws []types.NatGateway }

func (f fakeEC2) DescribeNatGateways(context.Context, *ec2.DescribeNatGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	return &ec2.DescribeNatGatewaysOutput{NatGateways: f.gws}, nil
}

func gw(tag, state, ip string) types.NatGateway {
	return types.NatGateway{State: types.NatGatewayState(state), Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(tag)}},
		NatGatewayAddresses: []types.NatGatewayAddress{{PublicIp: aws.String(ip)}}}
}

func TestOnlyAvailableGatewaysWithTheTag(t *testing.T) {
	f := fakeEC2{gws: []types.NatGateway{
		gw("prod", "available", "203.0.113.1"), gw("prod", "deleted", "203.0.113.2"),
		gw("staging", "available", "203.0.113.3"), gw("prod", "available", "203.0.113.4"),
	}}
	r := New(func(string) fakeEC2 { return f })
	got, err := r.PublicIPs(context.Background(), "", "Name", "prod")
	if err != nil || got.String() != "[203.0.113.1/32 203.0.113.4/32]" {
		t.Fatalf("%v %v", got, err)
	}
}
