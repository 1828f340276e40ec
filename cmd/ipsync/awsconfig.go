package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// awsConfig loads the SDK's standard chain (AWS_REGION, AWS_ENDPOINT_URL,
// profiles, SSO, roles): a person runs the CLI with whatever credentials
// they use. The functions build theirs from Lambda's environment instead
// (lambdafn.AWSConfig), to keep the full chain out of their cold start.
func awsConfig(ctx context.Context, log *slog.Logger) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithLogger(wire.SDKLogger(log)))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}
