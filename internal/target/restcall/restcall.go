// Package restcall makes one JSON call to a cloud's REST API the way the
// non-AWS adapters need it: retried while the service says to come back
// (after its Retry-After, or a doubling wait), the answer's body read
// within a bound. The adapters decode their service's error bodies.
package restcall

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Answer is a service's answer that is not a success.
type Answer struct {
	Status     int
	Body       []byte
	RetryAfter time.Duration // 0: none given
}

// Caller makes calls with one client's settings.
type Caller struct {
	Client *http.Client
	Sleep  func(context.Context, time.Duration) error
	// Retries bounds the retries of an answer Retryable accepts.
	Retries   int
	Retryable func(status int) bool
	// Failed turns an answer that is not a success into the adapter's
	// error (its service's error body decoded).
	Failed func(Answer) error
}

// firstWait is the wait before the first retry when the service names
// none; it doubles with each retry.
const firstWait = 500 * time.Millisecond

// Do sends body (JSON, when not nil) and returns the body of a 2xx answer.
func (c Caller) Do(ctx context.Context, method, url string, body []byte) ([]byte, error) {
	wait := firstWait
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Client.Do(req)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 == 2 {
			return b, nil
		}
		a := Answer{Status: resp.StatusCode, Body: b}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			a.RetryAfter = time.Duration(s) * time.Second
		}
		failed := c.Failed(a)
		if !c.Retryable(a.Status) || attempt > c.Retries {
			return nil, failed
		}
		d := wait
		if a.RetryAfter > 0 {
			d = a.RetryAfter
		}
		if err := c.Sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("%w (waiting to retry %v)", err, failed)
		}
		wait *= 2
	}
}

// JSON sends body as JSON (none when nil) and decodes a 2xx answer into
// out.
func (c Caller) JSON(ctx context.Context, method, url string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	b, err := c.Do(ctx, method, url, payload)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the answer to %s %s is not the JSON expected: %w", method, url, err)
	}
	return nil
}
