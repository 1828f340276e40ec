// Package secret reads secrets from AWS Secrets Manager.
package secret

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// getSecretValueAPI is what reading a secret needs of the SDK client.
type getSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrNotFound says the secret (or the asked-for stage) does not exist.
var ErrNotFound = errors.New("secret not found")

// Read returns the AWSCURRENT value of a secret (its string, or its binary).
func Read(ctx context.Context, api getSecretValueAPI, id string) ([]byte, error) {
	return ReadStage(ctx, api, id, "AWSCURRENT")
}

// ReadStage returns the value of one staging label (AWSCURRENT, AWSPREVIOUS).
// Errors name the secret, never its value.
func ReadStage(ctx context.Context, api getSecretValueAPI, id, stage string) ([]byte, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id, VersionStage: &stage})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("read secret %s (%s): %w", id, stage, ErrNotFound)
		}
		return nil, fmt.Errorf("read secret %s (%s): %w", id, stage, err)
	}
	if out.SecretString != nil {
		return []byte(*out.SecretString), nil
	}
	if out.SecretBinary != nil {
		return out.SecretBinary, nil
	}
	return nil, fmt.Errorf("read secret %s (%s): it has no value", id, stage)
}
