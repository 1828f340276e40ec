// Package location parses where the snapshot is kept. It is apart from
// package snapshot so that config can check a snapshot URL without linking
// the S3 client.
package location

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Location is a parsed snapshot URL: s3://bucket/key or file://path.
type Location struct {
	Scheme string // "s3" or "file"
	Bucket string // s3
	Key    string // s3
	Path   string // file
}

// Parse reads s3://bucket/key or file://path (relative paths allowed:
// file://.ipsync/snapshot.json).
func Parse(raw string) (Location, error) {
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
