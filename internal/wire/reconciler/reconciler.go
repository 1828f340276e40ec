// Package reconciler builds the adapters of a reconcile run from the config.
// It is apart from package wire so that the webhook function, which needs
// none of them, does not link the KMS, EC2 and SNS clients.
package reconciler

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/natgw"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/atlasconn"
)

// Deps builds every adapter a reconcile run needs. It makes no
// network call except reading the Atlas credentials secret, when one is set.
func Deps(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) (reconcile.Deps, error) {
	client, err := atlasconn.Client(ctx, c, awsCfg, getenv, log)
	if err != nil {
		return reconcile.Deps{}, err
	}
	store, err := wire.SnapshotStore(c, awsCfg)
	if err != nil {
		return reconcile.Deps{}, err
	}
	// One set of role credentials for the run: a role that serves a key and
	// a NAT gateway source is assumed once.
	roles := newRoles(awsCfg, c)
	d := reconcile.Deps{
		Atlas:      client,
		Encryption: client,
		Store:      store,
		Policies:   policies(c, roles, client),
		Now:        time.Now,
		Log:        log,
	}
	if c.Notify.TopicArn != "" {
		d.Notify = notify.NewSNS(sns.NewFromConfig(awsCfg), c.Notify.TopicArn)
	}
	if usesNAT(c) {
		d.NAT = natgw.New(func(roleArn string) *ec2.Client { return ec2.NewFromConfig(roles.config(roleArn)) })
	}
	return d, nil
}

// Policies builds one adapter per target type and role. No call is made:
// a role is assumed on first use. client serves atlas-access-list targets.
func Policies(c *config.Config, awsCfg aws.Config, client *atlas.Client) map[reconcile.AdapterKey]reconcile.Policies {
	return policies(c, newRoles(awsCfg, c), client)
}

func policies(c *config.Config, roles *roles, client *atlas.Client) map[reconcile.AdapterKey]reconcile.Policies {
	out := map[reconcile.AdapterKey]reconcile.Policies{}
	var prefixes []string
	for _, t := range c.Targets {
		if t.Type == config.TypeAtlasAccessList {
			prefixes = append(prefixes, t.Sid)
		}
	}
	for _, t := range c.Targets {
		key := reconcile.AdapterKey{Type: t.Type, RoleArn: t.RoleArn}
		if out[key] != nil {
			continue
		}
		cfg := roles.config(t.RoleArn)
		switch t.Type {
		case config.TypeKMSKeyPolicy:
			out[key] = kmspolicy.New(kms.NewFromConfig(cfg))
		case config.TypeVPCEndpointPolicy:
			out[key] = vpcepolicy.New(ec2.NewFromConfig(cfg))
		case config.TypeIAMRolePolicy:
			out[key] = iamrolepolicy.New(iam.NewFromConfig(cfg))
		case config.TypeAtlasAccessList:
			if client != nil {
				out[key] = atlasaccesslist.New(client, prefixes)
			}
		}
	}
	return out
}

// roles hands out the AWS config of each target role, one credentials
// cache per role for the run.
type roles struct {
	base    aws.Config
	externs map[string]string
	mu      sync.Mutex
	byArn   map[string]aws.Config
}

func newRoles(base aws.Config, c *config.Config) *roles {
	r := &roles{base: base, byArn: map[string]aws.Config{}, externs: map[string]string{}}
	for _, t := range c.Targets {
		if t.RoleArn != "" {
			r.externs[t.RoleArn] = t.ExternalID
		}
	}
	return r
}

func (r *roles) config(roleArn string) aws.Config {
	if roleArn == "" {
		return r.base
	}
	r.mu.Lock() // NAT sources ask from the run's goroutines
	defer r.mu.Unlock()
	if cfg, ok := r.byArn[roleArn]; ok {
		return cfg
	}
	cfg := assumed(r.base, roleArn, r.externs[roleArn])
	r.byArn[roleArn] = cfg
	return cfg
}

func usesNAT(c *config.Config) bool {
	for _, t := range c.Targets {
		for _, s := range t.Sources {
			if s.Kind == config.SourceNATGateways {
				return true
			}
		}
	}
	return false
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
