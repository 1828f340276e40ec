package gcpio

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/secret"
)

// FromAWS is the adapter of a run on AWS: the credentials JSON (a
// service-account key or an external_account) is the Secrets Manager
// secret secretID, read on first use, so that a run without such a
// target, or one that reads nothing, pays nothing for it.
func FromAWS(cfg aws.Config, secretID, endpoint string, sleep func(context.Context, time.Duration) error) *Adapter {
	sm := secretsmanager.NewFromConfig(cfg)
	return New(FromJSON(func(ctx context.Context) ([]byte, error) { return secret.Read(ctx, sm, secretID) }), endpoint, sleep)
}
