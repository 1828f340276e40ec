package reconcile_test

import (
	"fmt"
	"sync"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// ledger holds the simulation to invariant 5 (alerts): every alert that
// enters a recorded outbox is published before it leaves it (none lost,
// crashes included); one is published twice only if a run crashed while
// it was pending (SNS's at-least-once, counted once otherwise); nothing
// is published that no recorded outbox held, except while there is no
// snapshot to record it in (docs/design.md, Decisions).
type ledger struct {
	mu         sync.Mutex
	pending    []*owed
	stored     bool // a snapshot exists
	violations []string
}

// owed is one alert of a recorded outbox.
type owed struct {
	a         snapshot.PendingAlert
	published int
	crashed   bool // a run crashed while it was pending
}

func alertOf(a notify.Alert) snapshot.PendingAlert {
	return snapshot.PendingAlert{Event: string(a.Event), Key: a.Key, Subject: a.Subject, Body: a.Body}
}

// saved is told of each snapshot written: the outbox before and after.
func (l *ledger) saved(before, after []snapshot.PendingAlert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stored = true
	left := append([]snapshot.PendingAlert(nil), before...)
	for _, a := range after {
		if i := index(left, a); i >= 0 {
			left = append(left[:i], left[i+1:]...)
			continue
		}
		l.pending = append(l.pending, &owed{a: a})
	}
	for _, a := range left {
		i := l.find(a)
		if i < 0 {
			continue
		}
		o := l.pending[i]
		l.pending = append(l.pending[:i], l.pending[i+1:]...)
		switch {
		case o.published == 0:
			l.violations = append(l.violations, fmt.Sprintf("alerts: %s %q left the outbox unpublished", o.a.Event, o.a.Key))
		case o.published > 1 && !o.crashed:
			l.violations = append(l.violations, fmt.Sprintf("alerts: %s %q published %d times, and no run crashed while it was pending", o.a.Event, o.a.Key, o.published))
		}
	}
}

// published is told of each alert sent.
func (l *ledger) published(a notify.Alert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Two pending alerts may read the same (the same change twice, the
	// first left by a crashed run): a send counts for the one sent fewest
	// times, so that the outbox is a multiset, as the loop keeps it.
	var least *owed
	for _, o := range l.pending {
		if o.a == alertOf(a) && (least == nil || o.published < least.published) {
			least = o
		}
	}
	if least != nil {
		least.published++
		return
	}
	if l.stored {
		l.violations = append(l.violations, fmt.Sprintf("alerts: %s %q published, though no recorded outbox held it", a.Event, a.Key))
	}
}

// crashed marks what is pending when a run stops short.
func (l *ledger) crashed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.pending {
		o.crashed = true
	}
}

func (l *ledger) find(a snapshot.PendingAlert) int {
	for i, o := range l.pending {
		if o.a == a {
			return i
		}
	}
	return -1
}

func (l *ledger) violation() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.violations) > 0 {
		return l.violations[0]
	}
	return ""
}

func index(list []snapshot.PendingAlert, a snapshot.PendingAlert) int {
	for i, b := range list {
		if b == a {
			return i
		}
	}
	return -1
}
