package atlas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
)

// maxBody bounds what we read of any answer; the largest real answers are a
// few hundred KiB.
const maxBody = 16 << 20

// call is one logical API call, retried as a whole.
type call struct {
	method, path, accept string
	authenticated        bool
	body                 []byte // sent with Content-Type accept; nil: none
}

func (c call) endpoint() string { return c.method + " " + c.path }

// do performs the call with retries and hands a 200 body to parse. A parse
// failure is terminal: the answer arrived whole and is wrong.
func (c *Client) do(ctx context.Context, cl call, parse func([]byte) error) error {
	client := c.unauth
	if cl.authenticated {
		if c.auth == nil {
			return fmt.Errorf("atlas %s: no credentials configured", cl.endpoint())
		}
		client = c.auth
	}
	attempts := 0
	start := time.Now()
	op := func() (struct{}, error) {
		attempts++
		body, err := c.attempt(ctx, client, cl)
		if err != nil {
			return struct{}{}, err
		}
		if err := parse(body); err != nil {
			return struct{}{}, backoff.Permanent(&SchemaError{Endpoint: cl.endpoint(), Err: err})
		}
		return struct{}{}, nil
	}
	b := &backoff.ExponentialBackOff{
		InitialInterval:     c.opts.InitialBackoff,
		RandomizationFactor: 0.5,
		Multiplier:          1.5,
		MaxInterval:         10 * time.Second,
	}
	_, err := backoff.Retry(ctx, op,
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(c.opts.MaxAttempts)),
		backoff.WithMaxElapsedTime(c.opts.MaxElapsed),
		backoff.WithNotify(func(err error, wait time.Duration) {
			c.log.Warn("atlas call failed, retrying", "endpoint", cl.endpoint(), "attempt", attempts, "wait", wait.String(), "error", err.Error())
		}))
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", err, ctxErr)
	}
	if IsRetryable(err) {
		return fmt.Errorf("%w (gave up after %d attempts in %s)", err, attempts, time.Since(start).Round(time.Millisecond))
	}
	return err
}

// attempt makes one HTTP request and returns the 200 body, or an error that
// backoff.Retry understands: Permanent for terminal ones, RetryAfterError
// alongside a rate limit that named its wait.
func (c *Client) attempt(ctx context.Context, client *http.Client, cl call) ([]byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var reqBody io.Reader
	if cl.body != nil {
		reqBody = bytes.NewReader(cl.body) // replayable: digest auth sends it twice
	}
	req, err := http.NewRequestWithContext(actx, cl.method, c.base.String()+cl.path, reqBody)
	if err != nil {
		return nil, backoff.Permanent(fmt.Errorf("atlas %s: %w", cl.endpoint(), err))
	}
	req.Header.Set("Accept", cl.accept)
	if cl.body != nil {
		req.Header.Set("Content-Type", cl.accept)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := client.Do(req)
	if err != nil {
		return nil, c.classifyTransport(ctx, cl, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, c.classifyTransport(ctx, cl, fmt.Errorf("read body: %w", err))
	}
	if len(body) > maxBody {
		return nil, backoff.Permanent(&SchemaError{Endpoint: cl.endpoint(), Err: fmt.Errorf("answer larger than %d bytes", maxBody)})
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent:
		return body, nil
	}
	apiErr := decodeAPIError(cl.endpoint(), resp, body)
	if !apiErr.Retryable() {
		return nil, backoff.Permanent(apiErr)
	}
	if apiErr.RetryAfter > 0 {
		return nil, &rateLimited{api: apiErr, wait: &backoff.RetryAfterError{Duration: apiErr.RetryAfter}}
	}
	return nil, apiErr
}

// rateLimited carries both our error and backoff's instruction to wait.
type rateLimited struct {
	api  *APIError
	wait *backoff.RetryAfterError
}

func (r *rateLimited) Error() string   { return r.api.Error() }
func (r *rateLimited) Unwrap() []error { return []error{r.api, r.wait} }

func (c *Client) classifyTransport(ctx context.Context, cl call, err error) error {
	if ctx.Err() != nil {
		return backoff.Permanent(fmt.Errorf("atlas %s: %w", cl.endpoint(), context.Cause(ctx)))
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		apiErr := &APIError{
			Endpoint:  "POST /api/oauth/token",
			Status:    re.Response.StatusCode,
			ErrorCode: re.ErrorCode,
			Detail:    re.ErrorDescription,
		}
		if apiErr.Retryable() {
			return apiErr
		}
		return backoff.Permanent(apiErr)
	}
	return &TransportError{Endpoint: cl.endpoint(), Err: err}
}

func decodeAPIError(endpoint string, resp *http.Response, body []byte) *APIError {
	e := &APIError{Endpoint: endpoint, Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	var wire struct {
		ErrorCode string `json:"errorCode"`
		Detail    string `json:"detail"`
		Reason    string `json:"reason"`
	}
	if json.Unmarshal(body, &wire) == nil {
		e.ErrorCode, e.Detail, e.Reason = wire.ErrorCode, wire.Detail, wire.Reason
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; anything else is no hint.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
