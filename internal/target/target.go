// Package target defines what a kind of fence is (Kind), what reading one
// finds (Fence), the change the plan asks of it (Change), and the error
// type adapters share. It does no I/O: each kind is a package under
// internal/target, with the code that talks to its service in a
// subpackage, and internal/target/kinds lists them all.
package target

import "fmt"

// Type names a kind of fence ("kms-key-policy"): the config's target type,
// the plan's and the adapters' key.
type Type string

// Error is a failed read or write of a fence.
type Error struct {
	Op       string // "read" or "write"
	Kind     string // "KMS key policy", "VPC endpoint policy"
	Resource string
	Hint     string
	Err      error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s %s: %v", e.Op, e.Kind, e.Resource, e.Err)
	if e.Hint != "" {
		msg += " — " + e.Hint
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// NotOwnedError says the fence has no part ipsync may own (a policy without
// the statement): the plan answers it with the kind's Example.
type NotOwnedError struct{ Err error }

func (e *NotOwnedError) Error() string { return e.Err.Error() }

func (e *NotOwnedError) Unwrap() error { return e.Err }
