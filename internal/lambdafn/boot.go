package lambdafn

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// Boot is what every function does first: a JSON logger on stderr, the
// config from IPSYNC_CONFIG and the AWS SDK config (no network call). When
// any of it fails, it logs why and exits 1, which Lambda reports as an init
// error; it never panics.
func Boot() (*config.Config, aws.Config, *slog.Logger) {
	log := Logger(os.Stderr)
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		Exit(log, err)
	}
	awsCfg, err := wire.AWSConfig(context.Background(), log)
	if err != nil {
		Exit(log, err)
	}
	return cfg, awsCfg, log
}

// Exit logs why a function cannot start and exits 1.
func Exit(log *slog.Logger, err error) {
	log.Error("cannot start", "error", err.Error())
	os.Exit(1)
}
