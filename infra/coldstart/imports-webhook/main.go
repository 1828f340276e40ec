// Command imports-webhook imports the AWS SDK packages the webhook function
// uses and nothing else (see imports-reconcile). Measured by make bench;
// never deployed.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() { lambda.Start(func() (string, error) { return "imports", nil }) }
