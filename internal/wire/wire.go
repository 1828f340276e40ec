// Package wire builds the adapters a caller needs from the config: the
// snapshot store and the SDK's logger (the Atlas client is in atlasconn, so
// the webhook does not link it). The CLI and the Lambda handlers share it,
// so they cannot drift apart in how they read the config.
package wire

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot/location"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
)

// SDKLogger routes the SDK's own log lines into slog at debug level, so
// stderr stays one JSON document a line.
func SDKLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		log.Debug(fmt.Sprintf(format, v...), "component", "aws-sdk", "class", string(c))
	})
}

// SnapshotStore opens the configured snapshot location.
func SnapshotStore(c *config.Config, awsCfg aws.Config) (snapshot.Store, error) {
	loc, err := location.Parse(c.Snapshot.URL)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "file" {
		return snapshotstore.NewFileStore(loc.Path), nil
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle(awsCfg)
	})
	return snapshotstore.NewS3Store(client, loc.Bucket, loc.Key), nil
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
