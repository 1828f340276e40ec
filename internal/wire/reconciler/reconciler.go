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
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify/snsalerts"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist/accesslistio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault/azkvio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel/gcpio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy/iamio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy/kmsio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist/plio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup/sgio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy/vpceio"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset/wafio"
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
	return DepsFor(c, awsCfg, client, log)
}

// DepsFor builds the adapters of a run around an Atlas client already
// made (tests make theirs with shorter waits between retries).
func DepsFor(c *config.Config, awsCfg aws.Config, client *atlas.Client, log *slog.Logger) (reconcile.Deps, error) {
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
		Adapters:   fences(c, roles, client),
		Now:        time.Now,
		Log:        log,
	}
	if c.Notify.TopicArn != "" {
		d.Notify = snsalerts.New(sns.NewFromConfig(awsCfg), c.Notify.TopicArn)
	}
	if usesNAT(c) {
		d.NAT = natgw.New(func(roleArn string) *ec2.Client { return ec2.NewFromConfig(roles.config(roleArn)) })
	}
	return d, nil
}

// Fences builds one adapter per target type and role. No call is made:
// a role is assumed on first use. client serves atlas-access-list targets.
func Fences(c *config.Config, awsCfg aws.Config, client *atlas.Client) target.Adapters {
	return fences(c, newRoles(awsCfg, c), client)
}

// clients are what an adapter is built from: the AWS config of the
// target's role, the Atlas client (nil when the run has none), and the
// config's settings of the other clouds.
type clients struct {
	aws   aws.Config
	atlas *atlas.Client
	gcp   config.GCP
	azure config.Azure
}

// adapters builds each kind's adapter: one line per kind, the other half of
// the registry (internal/target/kinds, which config links without any
// service; TestEveryKindHasAnAdapter keeps the two equal). A function, not
// a package variable: nothing is built at package init.
func adapters() map[config.TargetType]func(clients) target.Adapter {
	return map[config.TargetType]func(clients) target.Adapter{
		kmspolicy.Type:     func(c clients) target.Adapter { return kmsio.New(kms.NewFromConfig(c.aws)) },
		vpcepolicy.Type:    func(c clients) target.Adapter { return vpceio.New(ec2.NewFromConfig(c.aws)) },
		iamrolepolicy.Type: func(c clients) target.Adapter { return iamio.New(iam.NewFromConfig(c.aws)) },
		atlasaccesslist.Type: func(c clients) target.Adapter {
			if c.atlas == nil {
				return nil // a run without an Atlas client reaches no access list
			}
			return accesslistio.New(c.atlas)
		},
		securitygroup.Type: func(c clients) target.Adapter { return sgio.New(ec2.NewFromConfig(c.aws)) },
		prefixlist.Type:    func(c clients) target.Adapter { return plio.New(ec2.NewFromConfig(c.aws), reconcile.SleepContext) },
		wafipset.Type:      func(c clients) target.Adapter { return wafio.FromAWS(c.aws) },
		gcpaccesslevel.Type: func(c clients) target.Adapter {
			return gcpio.FromAWS(c.aws, c.gcp.Credentials.SecretID, c.gcp.Endpoint, reconcile.SleepContext)
		},
		azurekeyvault.Type: func(c clients) target.Adapter { return azkvio.FromAWS(c.aws, signIn(c.azure), reconcile.SleepContext) },
	}
}

// signIn is the azure block's way to sign in.
func signIn(a config.Azure) azkvio.SignIn {
	s := azkvio.SignIn{App: azkvio.App{TenantID: a.TenantID, ClientID: a.ClientID, Authority: a.AuthorityURL, Management: a.ManagementURL}, SecretID: a.Credentials.SecretID}
	if a.Federation != nil {
		s.Audience = a.Federation.Audience
	}
	return s
}

func fences(c *config.Config, roles *roles, client *atlas.Client) target.Adapters {
	out := target.Adapters{}
	builders := adapters()
	for _, t := range c.Targets {
		key := target.AdapterKey{Type: t.Type, As: t.RoleArn}
		build, ok := builders[t.Type]
		if out[key] != nil || !ok {
			continue
		}
		if a := build(clients{aws: roles.config(t.RoleArn), atlas: client, gcp: c.GCP, azure: c.Azure}); a != nil {
			out[key] = a
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
