package target

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Adapter reads and writes the fences of one kind: the one contract a
// kind's adapter (<kind>io) implements, and all the loop and doctor know of
// a service.
type Adapter interface {
	Read(ctx context.Context, ref Ref) (Fence, error)
	Write(ctx context.Context, ref Ref, c Change) error
}

// SharedRoom is an adapter whose fences share their limit with other
// documents (all inline policies of an IAM role): it says how much room
// the others leave.
type SharedRoom interface {
	Room(ctx context.Context, ref Ref) (Capacity, error)
}

// AdapterKey names the adapter of a target type acting as one identity.
// Nothing reads the identity but the adapter's builder: for the AWS kinds
// it is the role assumed into another account (the target's roleArn);
// empty, the run's own.
type AdapterKey struct {
	Type Type
	As   string
}

func (k AdapterKey) String() string {
	if k.As == "" {
		return string(k.Type)
	}
	return string(k.Type) + " as " + k.As
}

// Adapters are a run's adapters, by the kind and identity they act as.
type Adapters map[AdapterKey]Adapter

// Get is the adapter of key, or an error naming it.
func (a Adapters) Get(key AdapterKey) (Adapter, error) {
	ad, ok := a[key]
	if !ok {
		return nil, fmt.Errorf("no adapter for %s", key)
	}
	return ad, nil
}

// Read reads one fence through the adapter of key, bounded by timeout: the
// one path the loop and doctor read by. A failure names the identity the
// fence is reached as, but for a fence that lacks the owned part (what it
// holds, not how it was reached).
func (a Adapters) Read(ctx context.Context, key AdapterKey, ref Ref, timeout time.Duration) (Fence, error) {
	ad, err := a.Get(key)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := ad.Read(cctx, ref)
	var notOwned *NotOwnedError
	if errors.As(err, &notOwned) {
		return nil, err
	}
	return f, ThroughRole(key.As, err)
}

// ThroughRole names, in a target's error, the identity it is reached as
// (for the AWS kinds, a role): the SDK's error says only "AssumeRole ...
// AccessDenied" or "get credentials: request canceled", and a run may use
// several roles.
func ThroughRole(as string, err error) error {
	if err == nil || as == "" {
		return err
	}
	return fmt.Errorf("%w (through role %s)", err, as)
}
