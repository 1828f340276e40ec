// Package lambdafn is what every function does before its first
// invocation: a JSON logger, the config from IPSYNC_CONFIG and the AWS SDK
// config. Each function's handler lives in its own package, so a function
// links only the code (and AWS services) it calls.
package lambdafn

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
)

// Boot is what every function does first: a JSON logger on stderr, the
// config from IPSYNC_CONFIG and the AWS SDK config from Lambda's
// environment (no network call). When
// any of it fails, it logs why and exits 1, which Lambda reports as an init
// error; it never panics.
func Boot() (*config.Config, aws.Config, *slog.Logger) {
	log := Logger(os.Stderr)
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		Exit(log, err)
	}
	awsCfg, err := AWSConfig(os.Getenv, log)
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

// LoadConfig reads the config the functions get in IPSYNC_CONFIG.
func LoadConfig(getenv func(string) string) (*config.Config, error) {
	raw := strings.TrimSpace(getenv("IPSYNC_CONFIG"))
	if raw == "" {
		return nil, errors.New("IPSYNC_CONFIG is empty: set it to the ipsync config as JSON (`ipsync config` prints it)")
	}
	if raw[0] != '{' {
		// No YAML parser is linked into the functions (cold start): the
		// template writes JSON, and `ipsync config` turns YAML into it.
		return nil, errors.New("IPSYNC_CONFIG must be JSON; run `ipsync config --config FILE` to turn a YAML config into it")
	}
	c, err := config.Parse([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("IPSYNC_CONFIG: %w", err)
	}
	return c, nil
}
