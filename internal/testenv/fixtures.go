package testenv

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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
