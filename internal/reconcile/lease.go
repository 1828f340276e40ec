package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// BusyError says another run holds the snapshot's lease while it applies.
type BusyError struct {
	Holder string
	Until  time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another run (%s) is applying changes until %s at the latest", e.Holder, e.Until.Format(time.RFC3339))
}

func newHolder() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// waitForLease polls the snapshot until no live lease is on it.
func (d Deps) waitForLease(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		s, _, err := d.Store.Load(ctx)
		if err != nil || s.Lease == nil || !d.Now().Before(s.Lease.Until) {
			return nil
		}
	}
	return fmt.Errorf("the other run's lease did not end within %s", limit)
}

// leased reports whether another run holds a live lease on s.
func leased(s *snapshot.Snapshot, holder string, now time.Time) *BusyError {
	if s == nil || s.Lease == nil || s.Lease.Holder == holder || !now.Before(s.Lease.Until) {
		return nil
	}
	return &BusyError{Holder: s.Lease.Holder, Until: s.Lease.Until}
}
