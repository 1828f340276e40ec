package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// defaultConfigPath is read when --config is not given.
const defaultConfigPath = "ipsync.yaml"

// newFlags makes a flag set whose errors exit 1, never 2: 2 means "changes
// pending" for plan and must not be spoken by a typo.
func newFlags(e env, name string) (*flag.FlagSet, *string, *bool) {
	fs := flag.NewFlagSet("ipsync "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg := fs.String("config", defaultConfigPath, "config file (YAML or JSON)")
	asJSON := fs.Bool("json", false, "print one JSON document on stdout")
	return fs, cfg, asJSON
}

// parseFlags returns the exit code to stop with, or -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments: %s\n", fs.Name(), strings.Join(fs.Args(), " "))
		return exitError
	}
	return -1
}

// logger writes JSON lines to stderr; IPSYNC_LOG_LEVEL=debug shows more.
func logger(e env) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(e.getenv("IPSYNC_LOG_LEVEL")))
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}

// setup is what every command starts with: the config, a logger and AWS.
type setup struct {
	cfg    *config.Config
	log    *slog.Logger
	awsCfg aws.Config
}

func load(ctx context.Context, e env, path string) (*setup, error) {
	log := logger(e)
	cfg, err := configfile.Load(path)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsConfig(ctx, log)
	if err != nil {
		return nil, err
	}
	return &setup{cfg: cfg, log: log, awsCfg: awsCfg}, nil
}

// loadStore is load plus the configured snapshot store; on failure it has
// already reported why and returns the exit code.
func loadStore(ctx context.Context, e env, path string) (*setup, snapshot.Store, int) {
	s, err := load(ctx, e, path)
	if err != nil {
		return nil, nil, fail(e, nil, err)
	}
	store, err := wire.SnapshotStore(s.cfg, s.awsCfg)
	if err != nil {
		return nil, nil, fail(e, s.log, err)
	}
	return s, store, -1
}

// fail reports an error on stderr, as a log line and a plain sentence.
func fail(e env, log *slog.Logger, err error) int {
	if log != nil {
		log.Error("failed", "error", err.Error())
	}
	fmt.Fprintf(e.stderr, "ipsync: %v\n", err)
	return exitError
}
