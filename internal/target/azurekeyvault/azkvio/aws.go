package azkvio

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/secret"
)

// SignIn is how a run on AWS signs in to Entra as app: with the client
// secret in the Secrets Manager secret SecretID, or, when Audience is set
// (federation), with a web identity token from STS for that audience,
// fetched for every token (no stored secret).
type SignIn struct {
	App      App
	SecretID string
	Audience string
}

// FromAWS is the adapter of a run on AWS; it signs in on first use.
func FromAWS(cfg aws.Config, s SignIn, sleep func(context.Context, time.Duration) error) *Adapter {
	var client Client
	if s.Audience != "" {
		st := sts.NewFromConfig(cfg)
		client = FromAssertion(s.App, func(ctx context.Context) (string, error) {
			out, err := st.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{Audience: []string{s.Audience}, SigningAlgorithm: aws.String("RS256")})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.WebIdentityToken), nil
		})
	} else {
		sm := secretsmanager.NewFromConfig(cfg)
		client = FromSecret(s.App, func(ctx context.Context) ([]byte, error) { return secret.Read(ctx, sm, s.SecretID) })
	}
	return New(client, s.App.Management, sleep)
}
