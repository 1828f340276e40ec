// Command linked-reconcile links what the reconcile function links but, like
// the SDK floor, does nothing else at start (see linked-webhook). Measured
// by make bench; never deployed.
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
	if len(os.Args) > 1 && os.Args[1] == "start-the-function" { // never, in the benchmark
		cfg, awsCfg, log := lambdafn.Boot()
		h := &reconcilefn.Reconcile{Config: cfg, Log: log, Metrics: os.Stdout,
			Build: func(ctx context.Context) (reconcile.Deps, error) {
				return reconciler.Deps(ctx, cfg, awsCfg, os.Getenv, log)
			}}
		lambda.Start(h.Handle)
	}
	lambda.Start(func() (string, error) { return "linked", nil })
}
