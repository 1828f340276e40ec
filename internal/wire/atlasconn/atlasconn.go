// Package atlasconn builds the Atlas client from the config: credentials
// from Secrets Manager or the environment. The reconcile function and the
// CLI use it; the webhook, which never calls Atlas, does not link it.
package atlasconn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/secret"
)

// secretTimeout bounds reading the secret: a hung Secrets Manager must fail
// the run, not hold it.
const secretTimeout = 30 * time.Second

// Credentials reads the Atlas credentials from the configured secret,
// or from the environment when no secret is configured.
func Credentials(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string) (atlas.Credentials, error) {
	return readCredentials(ctx, c, awsCfg, getenv, secretTimeout)
}

func readCredentials(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string, limit time.Duration) (atlas.Credentials, error) {
	id := c.Atlas.Credentials.SecretID
	if id == "" {
		return atlas.CredentialsFromEnv(getenv)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
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

// Client builds the Atlas client. Credentials are needed only when
// projects are read (node addresses, encryption at rest): the control-plane
// endpoint is public.
func Client(ctx context.Context, c *config.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) (*atlas.Client, error) {
	var creds atlas.Credentials
	if len(c.Atlas.Projects) > 0 || c.VerifiesEncryption() {
		var err error
		if creds, err = Credentials(ctx, c, awsCfg, getenv); err != nil {
			return nil, err
		}
	}
	return atlas.New(atlas.Options{BaseURL: c.Atlas.BaseURL, Credentials: creds, Logger: log, Concurrency: c.Atlas.Concurrency})
}
