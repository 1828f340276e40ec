// Package wire builds the adapters a caller needs from the config: the AWS
// SDK config, the Atlas client and the snapshot store. The CLI and the Lambda
// handlers share it, so they cannot drift apart in how they read the config.
package wire

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/logging"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/secret"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// AWSConfig loads the SDK's standard chain (AWS_REGION, AWS_ENDPOINT_URL,
// profiles, roles) and routes the SDK's own log lines into slog at debug
// level, so stderr stays one JSON document a line.
func AWSConfig(ctx context.Context, log *slog.Logger) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log.Debug(fmt.Sprintf(format, v...), "component", "aws-sdk", "class", string(c))
	})))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// AtlasCredentials reads the Atlas credentials from the configured secret,
// or from the environment when no secret is configured.
func AtlasCredentials(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string) (atlas.Credentials, error) {
	id := c.Atlas.Credentials.SecretID
	if id == "" {
		return atlas.CredentialsFromEnv(getenv)
	}
	// Bounded: a hung Secrets Manager must fail the run, not hold it.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := secret.Read(ctx, secretsmanager.NewFromConfig(awsCfg), id)
	if err != nil {
		return atlas.Credentials{}, fmt.Errorf("atlas credentials: %w", err)
	}
	creds, err := atlas.ParseCredentials(raw)
	if err != nil {
		return atlas.Credentials{}, fmt.Errorf("%w (secret %s)", err, id)
	}
	return creds, nil
}

// AtlasClient builds the Atlas client. Credentials are needed only when
// projects are read (node addresses, encryption at rest): the control-plane
// endpoint is public.
func AtlasClient(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) (*atlas.Client, error) {
	var creds atlas.Credentials
	if len(c.Atlas.Projects) > 0 || c.VerifiesEncryption() {
		var err error
		if creds, err = AtlasCredentials(ctx, c, awsCfg, getenv); err != nil {
			return nil, err
		}
	}
	return atlas.New(atlas.Options{BaseURL: c.Atlas.BaseURL, Credentials: creds, Logger: log, Concurrency: c.Atlas.Concurrency})
}

// SnapshotStore opens the configured snapshot location.
func SnapshotStore(c *config.Config, awsCfg aws.Config) (snapshot.Store, error) {
	loc, err := snapshot.ParseURL(c.Snapshot.URL)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "file" {
		return snapshot.NewFileStore(loc.Path), nil
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle(awsCfg)
	})
	return snapshot.NewS3Store(client, loc.Bucket, loc.Key), nil
}

// pathStyle is needed when the endpoint is a loopback or IP address (a local
// S3 such as moto): bucket.127.0.0.1 does not resolve.
func pathStyle(cfg aws.Config) bool {
	if cfg.BaseEndpoint == nil {
		return false
	}
	u, err := url.Parse(*cfg.BaseEndpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	return host == "localhost" || net.ParseIP(host) != nil
}
