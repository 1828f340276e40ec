// Command floor-webhook is the webhook function's SDK floor: it imports
// exactly the AWS SDK packages the function uses (S3 serves the optional
// source check), links the operations the function calls, and at start does
// nothing else (see floor-reconcile). Measured by make bench; never
// deployed.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "link-the-sdk-calls" { // never, in the benchmark
		callSDK(context.Background(), aws.Config{})
	}
	lambda.Start(func() (string, error) { return "floor", nil })
}

func callSDK(ctx context.Context, cfg aws.Config) {
	_, _ = secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, nil)
	_, _ = sqs.NewFromConfig(cfg).SendMessage(ctx, nil)
	_, _ = s3.NewFromConfig(cfg).GetObject(ctx, nil)
}
