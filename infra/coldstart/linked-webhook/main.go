// Command linked-webhook links what the webhook function links but, like
// the SDK floor, does nothing else at start: linked/floor is what linking
// our code and non-SDK dependencies costs a cold start (the floor links the
// same SDK calls), and webhook/linked is what the function's own start-up
// work costs. Measured by make bench; never deployed.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/lambdafn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/hook"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "start-the-function" { // never, in the benchmark
		cfg, awsCfg, log := lambdafn.Boot()
		h, err := hook.Handler(cfg, awsCfg, log)
		if err != nil {
			lambdafn.Exit(log, err)
		}
		lambda.Start(h.HandleFunctionURL)
	}
	lambda.Start(func() (string, error) { return "linked", nil })
}
