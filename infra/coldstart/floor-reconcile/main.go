// Command floor-reconcile imports exactly the AWS SDK service packages the
// reconcile function uses (STS for targets in other accounts) and does
// nothing else: the cold-start floor our code is compared with. Like the
// function, it leaves out the SDK's config package (see lambdafn.AWSConfig).
// Measured by make bench; never deployed.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	_ "github.com/aws/aws-sdk-go-v2/service/ec2"
	_ "github.com/aws/aws-sdk-go-v2/service/iam"
	_ "github.com/aws/aws-sdk-go-v2/service/kms"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/aws/aws-sdk-go-v2/service/sns"
	_ "github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() { lambda.Start(func() (string, error) { return "floor", nil }) }
