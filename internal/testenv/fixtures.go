package testenv

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KeyPolicy is a realistic key policy: the account root statement, the
// statement for the role Atlas assumes, and the owned statement holding the
// given values.
func KeyPolicy(sid string, values ...string) string {
	return fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Id": "atlas-ear-key",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "AtlasRoleUse", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/atlas-ear"}, "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"], "Resource": "*"},
    {"Sid": %q, "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/atlas-ear"}, "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": %s}, "Bool": {"aws:ViaAWSService": "false"}}}
  ]
}`, sid, jsonList(values))
}

// EndpointPolicy is a VPC endpoint policy with the owned statement.
func EndpointPolicy(sid string, values ...string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AllowAccount","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}},{"Sid":%q,"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*","Condition":{"IpAddress":{"aws:VpcSourceIp":%s}}}]}`, sid, jsonList(values))
}

var roleSeq atomic.Int64

// RolePolicy is an inline role policy (identity policy: no principal) whose
// statement sid allows the key only from values.
func RolePolicy(sid string, values ...string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"DescribeKeys","Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"},{"Sid":%q,"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"arn:aws:kms:us-east-1:123456789012:key/*","Condition":{"IpAddress":{"aws:SourceIp":%s}}}]}`, sid, jsonList(values))
}

// CreateRolePolicy makes a role in moto with an inline policy and returns
// the target resource "ROLE_NAME/POLICY_NAME".
func CreateRolePolicy(tb testing.TB, cfg aws.Config, policy string) string {
	tb.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(cfg)
	role := fmt.Sprintf("atlas-ear-%d-%d", time.Now().UnixNano()%1e9, roleSeq.Add(1))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::536727724300:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &role, AssumeRolePolicyDocument: &trust}); err != nil {
		tb.Fatalf("create role: %v", err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("atlas-ip-allow"), PolicyDocument: &policy}); err != nil {
		tb.Fatalf("put role policy: %v", err)
	}
	return role + "/atlas-ip-allow"
}

func jsonList(vs []string) string {
	out := "["
	for i, v := range vs {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%q", v)
	}
	return out + "]"
}

// CreateKey makes a KMS key in moto with the given policy and returns its id.
func CreateKey(tb testing.TB, cfg aws.Config, policy string) string {
	tb.Helper()
	out, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{Policy: aws.String(policy), Description: aws.String("ipsync test")})
	if err != nil {
		tb.Fatalf("create key: %v", err)
	}
	return aws.ToString(out.KeyMetadata.KeyId)
}

// CreateEndpoint makes a VPC and an interface endpoint in moto with the given
// policy and returns the endpoint id.
func CreateEndpoint(tb testing.TB, cfg aws.Config, policy string) string {
	tb.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		tb.Fatalf("create vpc: %v", err)
	}
	ep, err := c.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId:          vpc.Vpc.VpcId,
		ServiceName:    aws.String("com.amazonaws.us-east-1.kms"),
		PolicyDocument: aws.String(policy),
	})
	if err != nil {
		tb.Fatalf("create endpoint: %v", err)
	}
	return aws.ToString(ep.VpcEndpoint.VpcEndpointId)
}

// CreateNatGateway makes a VPC, a subnet and an available NAT gateway
// tagged Name=name in moto, and returns its Elastic IP.
func CreateNatGateway(tb testing.TB, cfg aws.Config, name string) string {
	return CreateNatGatewayAt(tb, cfg, name, PublicAddress())
}

// publicAddresses counts the Elastic IPs PublicAddress hands out.
var publicAddresses atomic.Int64

// PublicAddress is a public address no other call in this process got.
// moto hands out Elastic IPs in 127.0.0.0/8 by default, which admission
// refuses as loopback (issue 30); AllocateAddress with an Address is
// honoured, as by EC2 for a BYOIP pool.
func PublicAddress() string {
	n := publicAddresses.Add(1)
	return fmt.Sprintf("44.224.%d.%d", n/250%250, 1+n%250)
}

// CreateNatGatewayAt is CreateNatGateway with the Elastic IP at address.
func CreateNatGatewayAt(tb testing.TB, cfg aws.Config, name, address string) string {
	tb.Helper()
	ctx := context.Background()
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		tb.Fatalf("create vpc: %v", err)
	}
	subnet, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.1.1.0/24")})
	if err != nil {
		tb.Fatalf("create subnet: %v", err)
	}
	eip, err := c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc, Address: aws.String(address)})
	if err != nil {
		tb.Fatalf("allocate address: %v", err)
	}
	_, err = c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: subnet.Subnet.SubnetId, AllocationId: eip.AllocationId,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeNatgateway, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}})
	if err != nil {
		tb.Fatalf("create NAT gateway: %v", err)
	}
	if got := aws.ToString(eip.PublicIp); got != address {
		tb.Fatalf("moto allocated %s, asked for %s", got, address)
	}
	return aws.ToString(eip.PublicIp)
}
