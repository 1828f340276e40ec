package snapshot

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// NotBlockedError says the target named has no block to clear.
type NotBlockedError struct {
	Name    string
	Blocked []string // the targets that are blocked
}

func (e *NotBlockedError) Error() string {
	if len(e.Blocked) == 0 {
		return fmt.Sprintf("target %q is not blocked; no target is", e.Name)
	}
	return fmt.Sprintf("target %q is not blocked; blocked: %v", e.Name, e.Blocked)
}

// Unblock clears a target's block in the stored snapshot with a conditional
// write, so that the next run may change it again. It returns the block it
// cleared. A run racing with it makes it read and try again.
func Unblock(ctx context.Context, store Store, name string) (Block, error) {
	for attempt := 0; ; attempt++ {
		s, version, err := store.Load(ctx)
		if errors.Is(err, ErrNotFound) {
			return Block{}, &NotBlockedError{Name: name}
		}
		if err != nil {
			return Block{}, fmt.Errorf("load snapshot: %w", err)
		}
		b, ok := s.Blocked[name]
		if !ok {
			var blocked []string
			for k := range s.Blocked {
				blocked = append(blocked, k)
			}
			sort.Strings(blocked)
			return Block{}, &NotBlockedError{Name: name, Blocked: blocked}
		}
		next := *s
		next.Blocked = map[string]Block{}
		for k, v := range s.Blocked {
			if k != name {
				next.Blocked[k] = v
			}
		}
		if len(next.Blocked) == 0 {
			next.Blocked = nil
		}
		_, err = store.Save(ctx, &next, version)
		var conflict *ConflictError
		if errors.As(err, &conflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return Block{}, fmt.Errorf("record snapshot: %w", err)
		}
		return b, nil
	}
}
