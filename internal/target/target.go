// Package target holds what every policy adapter shares: the error type that
// names the operation, the resource and a hint at the cause. The adapters
// themselves live in the subpackages, one per kind of policy, each importing
// only its service.
package target

import "fmt"

// Type names a kind of fence ("kms-key-policy"): the config's target type,
// the plan's and the adapters' key.
type Type string

// Error is a failed read or write of a policy.
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
