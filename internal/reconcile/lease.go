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

// leasePoll is how often a waiting run looks at the snapshot's lease.
const leasePoll = 200 * time.Millisecond

// waitForLease polls the snapshot until no live lease is on it, for at
// most limit of waiting. Whether a lease is live is judged by the run's
// clock (Deps.Now), the one leases are written with; the waiting is
// counted in the polls' pauses (Deps.Sleep), so no wall clock is mixed in.
func (d Deps) waitForLease(ctx context.Context, limit time.Duration) error {
	for waited := time.Duration(0); waited < limit; waited += leasePoll {
		if err := d.sleep(ctx, leasePoll); err != nil {
			return err
		}
		s, _, err := d.Store.Load(ctx)
		if err != nil || s.Lease == nil || !d.Now().Before(s.Lease.Until) {
			return nil
		}
	}
	return fmt.Errorf("the other run's lease did not end within %s", limit)
}

// sleep pauses for dt, or until ctx ends (its error then).
func (d Deps) sleep(ctx context.Context, dt time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dt)
	}
	return SleepContext(ctx, dt)
}

// SleepContext pauses for dt, or until ctx ends (its error then): the
// real clock's Sleep, for the adapters that wait on their service.
func SleepContext(ctx context.Context, dt time.Duration) error {
	t := time.NewTimer(dt)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leased reports whether another run holds a live lease on s.
func leased(s *snapshot.Snapshot, holder string, now time.Time) *BusyError {
	if s == nil || s.Lease == nil || s.Lease.Holder == holder || !now.Before(s.Lease.Until) {
		return nil
	}
	return &BusyError{Holder: s.Lease.Holder, Until: s.Lease.Until}
}
