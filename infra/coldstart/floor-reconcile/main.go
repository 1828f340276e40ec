// Command floor-reconcile is the reconcile function's SDK floor: it imports
// exactly the AWS SDK packages the function uses, links the operations the
// function calls, and at start does nothing else. Like the function, it
// leaves out the SDK's config package (see lambdafn.AWSConfig).
//
// The operations are linked because the SDK's generated code for them (the
// serialisers, deserialisers and types of each call) is the SDK's weight,
// not ours: with blank imports alone (imports-reconcile) the linker drops
// it, and the ratio would charge it to our code. TestFloorsLinkTheSDKCalls
// keeps the list equal to the function's. Measured by make bench; never
// deployed.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "link-the-sdk-calls" { // never, in the benchmark
		callSDK(context.Background(), aws.Config{})
	}
	lambda.Start(func() (string, error) { return "floor", nil })
}

func callSDK(ctx context.Context, cfg aws.Config) {
	e := ec2.NewFromConfig(cfg)
	_, _ = e.AuthorizeSecurityGroupEgress(ctx, nil)
	_, _ = e.AuthorizeSecurityGroupIngress(ctx, nil)
	_, _ = e.DescribeManagedPrefixLists(ctx, nil)
	_, _ = e.DescribeNatGateways(ctx, nil)
	_, _ = e.DescribeSecurityGroupRules(ctx, nil)
	_, _ = e.DescribeSecurityGroups(ctx, nil)
	_, _ = e.DescribeVpcEndpoints(ctx, nil)
	_, _ = e.GetManagedPrefixListEntries(ctx, nil)
	_, _ = e.ModifyManagedPrefixList(ctx, nil)
	_, _ = e.ModifyVpcEndpoint(ctx, nil)
	_, _ = e.RevokeSecurityGroupEgress(ctx, nil)
	_, _ = e.RevokeSecurityGroupIngress(ctx, nil)
	i := iam.NewFromConfig(cfg)
	_, _ = i.GetRolePolicy(ctx, nil)
	_, _ = i.ListRolePolicies(ctx, nil)
	_, _ = i.PutRolePolicy(ctx, nil)
	k := kms.NewFromConfig(cfg)
	_, _ = k.GetKeyPolicy(ctx, nil)
	_, _ = k.PutKeyPolicy(ctx, nil)
	s := s3.NewFromConfig(cfg)
	_, _ = s.GetObject(ctx, nil)
	_, _ = s.PutObject(ctx, nil)
	_, _ = secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, nil)
	_, _ = sns.NewFromConfig(cfg).Publish(ctx, nil)
	w := wafv2.NewFromConfig(cfg)
	_, _ = w.GetIPSet(ctx, nil)
	_, _ = w.UpdateIPSet(ctx, nil)
	st := sts.NewFromConfig(cfg)
	_, _ = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(st, "")).Retrieve(ctx)
	_, _ = st.GetWebIdentityToken(ctx, nil)
}
