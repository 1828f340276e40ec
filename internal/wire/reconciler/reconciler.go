// Package reconciler builds the adapters of a reconcile run from the config.
// It is apart from package wire so that the webhook function, which needs
// none of them, does not link the KMS, EC2 and SNS clients.
package reconciler

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// Deps builds every adapter a reconcile run needs. It makes no
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
		Policies:   Policies(c, awsCfg),
		Now:        time.Now,
		Log:        log,
	}
	if c.Notify.TopicArn != "" {
		d.Notify = notify.NewSNS(sns.NewFromConfig(awsCfg), c.Notify.TopicArn)
	}
	return d, nil
}

// Policies builds one adapter per target type and role. No call is made:
// a role is assumed on first use.
func Policies(c *config.Config, awsCfg aws.Config) map[string]reconcile.Policies {
	out := map[string]reconcile.Policies{}
	roles := map[string]aws.Config{} // one credentials cache per role, for the run
	for _, t := range c.Targets {
		key := reconcile.AdapterKey(t.Type, t.RoleArn)
		if out[key] != nil {
			continue
		}
		cfg := awsCfg
		if t.RoleArn != "" {
			if _, ok := roles[t.RoleArn]; !ok {
				roles[t.RoleArn] = assumed(awsCfg, t.RoleArn, t.ExternalID)
			}
			cfg = roles[t.RoleArn]
		}
		switch t.Type {
		case config.TypeKMSKeyPolicy:
			out[key] = kmspolicy.New(kms.NewFromConfig(cfg))
		case config.TypeVPCEndpointPolicy:
			out[key] = vpcepolicy.New(ec2.NewFromConfig(cfg))
		case config.TypeIAMRolePolicy:
			out[key] = iamrolepolicy.New(iam.NewFromConfig(cfg))
		}
	}
	return out
}

// assumed is awsCfg acting as roleArn: STS AssumeRole on first use, the
// credentials cached and renewed before they expire. No call is made here.
func assumed(awsCfg aws.Config, roleArn, externalID string) aws.Config {
	cfg := awsCfg.Copy()
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(awsCfg), roleArn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "atlas-ip-sync"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	cfg.Credentials = aws.NewCredentialsCache(provider)
	return cfg
}
