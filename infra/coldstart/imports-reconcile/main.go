// Command imports-reconcile imports the AWS SDK packages the reconcile
// function uses and nothing else: with blank imports the linker keeps their
// package initialisation but none of their operations. It is issue 6's first
// sketch of an SDK floor, reported beside the floor (floor-reconcile), which
// also links the operations the function calls. Measured by make bench;
// never deployed.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	_ "github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	_ "github.com/aws/aws-sdk-go-v2/service/ec2"
	_ "github.com/aws/aws-sdk-go-v2/service/iam"
	_ "github.com/aws/aws-sdk-go-v2/service/kms"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/aws/aws-sdk-go-v2/service/sns"
	_ "github.com/aws/aws-sdk-go-v2/service/sts"
	_ "github.com/aws/aws-sdk-go-v2/service/wafv2"
)

func main() { lambda.Start(func() (string, error) { return "imports", nil }) }
