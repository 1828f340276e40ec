package snapshot

import (
	"context"
)

// Store keeps the latest snapshot. Save is a compare-and-swap: it writes only
// if the stored version is still prev ("" = nothing stored), and otherwise
// returns a *ConflictError without writing.
type Store interface {
	Load(ctx context.Context) (*Snapshot, Version, error)
	Save(ctx context.Context, s *Snapshot, prev Version) (Version, error)
	URL() string
}
