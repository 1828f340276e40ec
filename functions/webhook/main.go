// Command webhook is the webhook Lambda function behind a function URL: it
// verifies Atlas alert webhooks and enqueues a reconcile. Wiring only; what
// it does lives in internal/webhook.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/lambdafn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/hook"
)

func main() {
	cfg, awsCfg, log := lambdafn.Boot()
	h, err := hook.Handler(cfg, awsCfg, log)
	if err != nil {
		lambdafn.Exit(log, err)
	}
	h.Metrics = os.Stdout
	lambda.Start(h.HandleFunctionURL)
}
