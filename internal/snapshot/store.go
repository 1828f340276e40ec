package snapshot

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Store keeps the latest snapshot. Save is a compare-and-swap: it writes only
// if the stored version is still prev ("" = nothing stored), and otherwise
// returns a *ConflictError without writing.
type Store interface {
	Load(ctx context.Context) (*Snapshot, Version, error)
	Save(ctx context.Context, s *Snapshot, prev Version) (Version, error)
	URL() string
}

// Location is a parsed snapshot URL: s3://bucket/key or file://path.
type Location struct {
	Scheme string // "s3" or "file"
	Bucket string // s3
	Key    string // s3
	Path   string // file
}

// ParseURL reads s3://bucket/key or file://path (relative paths allowed:
// file://.ipsync/snapshot.json).
func ParseURL(raw string) (Location, error) {
	switch {
	case strings.HasPrefix(raw, "file://"):
		p := strings.TrimPrefix(raw, "file://")
		if p == "" || strings.HasSuffix(p, "/") {
			return Location{}, fmt.Errorf("snapshot URL %q: want file://path/to/snapshot.json", raw)
		}
		return Location{Scheme: "file", Path: filepath.Clean(p)}, nil
	case strings.HasPrefix(raw, "s3://"):
		u, err := url.Parse(raw)
		key := strings.TrimPrefix(u.Path, "/")
		if err != nil || u.Host == "" || key == "" || strings.HasSuffix(key, "/") || u.RawQuery != "" {
			return Location{}, fmt.Errorf("snapshot URL %q: want s3://bucket/key", raw)
		}
		return Location{Scheme: "s3", Bucket: u.Host, Key: key}, nil
	}
	return Location{}, fmt.Errorf("snapshot URL %q: want s3://bucket/key or file://path", raw)
}
