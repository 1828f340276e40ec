package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RuntimeAPI serves the Lambda Runtime API on loopback, so a built
// bootstrap can be run the way Lambda runs it: it polls next, gets an event,
// and posts a response or an error.
type RuntimeAPI struct {
	Addr string // host:port, for AWS_LAMBDA_RUNTIME_API

	srv     *http.Server
	pending chan invocation
	mu      sync.Mutex
	waiting map[string]chan Result
	seq     int
	// InitErrors holds bodies posted to /runtime/init/error.
	InitErrors [][]byte
}

type invocation struct {
	id      string
	payload []byte
}

// Result is how the function answered one invocation.
type Result struct {
	Response []byte // body posted to /response
	Error    []byte // body posted to /error
}

// StartRuntimeAPI listens on a free loopback port.
func StartRuntimeAPI() (*RuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &RuntimeAPI{Addr: ln.Addr().String(), pending: make(chan invocation, 16), waiting: map[string]chan Result{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", r.finish(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", r.finish(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.InitErrors = append(r.InitErrors, b)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = &http.Server{Handler: mux}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the server.
func (r *RuntimeAPI) Close() { _ = r.srv.Close() }

func (r *RuntimeAPI) next(w http.ResponseWriter, req *http.Request) {
	select {
	case inv := <-r.pending:
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(60*time.Second).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:ipsync-test")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-req.Context().Done():
	}
}

func (r *RuntimeAPI) finish(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		ch := r.waiting[req.PathValue("id")]
		delete(r.waiting, req.PathValue("id"))
		r.mu.Unlock()
		if ch != nil {
			if isError {
				ch <- Result{Error: b}
			} else {
				ch <- Result{Response: b}
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}
}

// Invoke hands the function one event and waits for its answer.
func (r *RuntimeAPI) Invoke(ctx context.Context, payload []byte) (Result, error) {
	r.mu.Lock()
	r.seq++
	id := fmt.Sprintf("req-%d", r.seq)
	ch := make(chan Result, 1)
	r.waiting[id] = ch
	r.mu.Unlock()
	r.pending <- invocation{id: id, payload: payload}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s: %w", id, ctx.Err())
	}
}
