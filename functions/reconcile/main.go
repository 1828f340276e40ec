// Command reconcile is the reconcile Lambda function: EventBridge Scheduler,
// EventBridge rules and the webhook's SQS queue invoke it. Wiring only; what
// it does lives in internal/reconcilefn and internal/reconcile.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/lambdafn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcilefn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

func main() {
	cfg, awsCfg, log := lambdafn.Boot()
	h := &reconcilefn.Reconcile{
		Config:  cfg,
		Log:     log,
		Metrics: os.Stdout,
		Build: func(ctx context.Context) (reconcile.Deps, error) {
			return reconciler.Deps(ctx, cfg, awsCfg, os.Getenv, log)
		},
	}
	lambda.Start(h.Handle)
}
