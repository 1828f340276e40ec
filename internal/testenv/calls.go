package testenv

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Calls counts AWS API calls by operation name (e.g. "PutKeyPolicy").
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

// CountCalls adds a counting middleware to every client built from cfg.
func CountCalls(cfg *aws.Config) *Calls {
	c := &Calls{n: map[string]int{}}
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ipsyncCountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[middleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
	return c
}

// Add counts a call of op made elsewhere (a simulator's).
func (c *Calls) Add(op string) { c.mu.Lock(); c.n[op]++; c.mu.Unlock() }

// Get returns how many times op was called.
func (c *Calls) Get(op string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.n[op] }

// Total is the number of calls of every operation.
func (c *Calls) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

// Reset zeroes the counts.
func (c *Calls) Reset() { c.mu.Lock(); c.n = map[string]int{}; c.mu.Unlock() }
