// Command hello is the cold-start baseline: an aws-lambda-go hello world,
// built with the functions' flags. Measured by make bench; never deployed.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() { lambda.Start(func() (string, error) { return "hello", nil }) }
