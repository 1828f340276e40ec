// Command webhook is the webhook Lambda function behind a function URL: it
// verifies Atlas alert webhooks and enqueues a reconcile. Wiring only; what
// it does lives in internal/webhook.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/lambdafn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/hook"
)

func main() {
	log := lambdafn.Logger(os.Stderr)
	cfg, err := lambdafn.LoadConfig(os.Getenv)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	awsCfg, err := wire.AWSConfig(context.Background(), log)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	h, err := hook.Handler(cfg, awsCfg, log)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.HandleFunctionURL)
}
