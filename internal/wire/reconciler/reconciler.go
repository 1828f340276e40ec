// Package reconciler builds the adapters of a reconcile run from the config.
// It is apart from package wire so that the webhook function, which needs
// none of them, does not link the KMS, EC2 and SNS clients.
package reconciler

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// ReconcileDeps builds every adapter a reconcile run needs. It makes no
// network call except reading the Atlas credentials secret, when one is set.
func Deps(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) (reconcile.Deps, error) {
	client, err := wire.AtlasClient(ctx, c, awsCfg, getenv, log)
	if err != nil {
		return reconcile.Deps{}, err
	}
	store, err := wire.SnapshotStore(c, awsCfg)
	if err != nil {
		return reconcile.Deps{}, err
	}
	d := reconcile.Deps{
		Atlas:      client,
		Encryption: client,
		Store:      store,
		Policies:   map[string]reconcile.Policies{},
		Now:        time.Now,
		Log:        log,
	}
	for _, t := range c.Targets {
		switch t.Type {
		case config.TypeKMSKeyPolicy:
			if d.Policies[t.Type] == nil {
				d.Policies[t.Type] = kmspolicy.New(kms.NewFromConfig(awsCfg))
			}
		case config.TypeVPCEndpointPolicy:
			if d.Policies[t.Type] == nil {
				d.Policies[t.Type] = vpcepolicy.New(ec2.NewFromConfig(awsCfg))
			}
		}
	}
	if c.Notify.TopicArn != "" {
		d.Notify = notify.NewSNS(sns.NewFromConfig(awsCfg), c.Notify.TopicArn)
	}
	return d, nil
}
