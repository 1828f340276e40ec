package restcall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetriesWhatTheServiceSaysToRetry(t *testing.T) {
	for _, c := range []struct {
		name    string
		answers []int // status of each call, the last repeated
		after   string
		retries int
		want    string // "" ok, else the error
		calls   int32
		waits   string
	}{
		{"ok", []int{200}, "", 4, "", 1, "[]"},
		{"busy, then ok, Retry-After", []int{429, 429, 200}, "7", 4, "", 3, "[7s 7s]"},
		{"busy, doubling waits", []int{503, 503, 503, 200}, "", 4, "", 4, "[500ms 1s 2s]"},
		{"busy throughout", []int{503}, "", 2, "status 503", 3, "[500ms 1s]"},
		{"refused at once", []int{403}, "", 4, "status 403", 1, "[]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				st := c.answers[min(i, len(c.answers)-1)]
				if c.after != "" {
					w.Header().Set("Retry-After", c.after)
				}
				w.WriteHeader(st)
				fmt.Fprint(w, `{"x":1}`)
			}))
			defer srv.Close()
			var waits []time.Duration
			caller := Caller{Client: srv.Client(), Retries: c.retries,
				Sleep:     func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
				Retryable: func(s int) bool { return s == 429 || s >= 500 },
				Failed:    func(a Answer) error { return fmt.Errorf("status %d", a.Status) }}
			b, err := caller.Do(context.Background(), "GET", srv.URL, nil)
			switch {
			case c.want == "" && (err != nil || string(b) != `{"x":1}`):
				t.Fatalf("%s %v", b, err)
			case c.want != "" && (err == nil || err.Error() != c.want):
				t.Fatalf("error %v, want %s", err, c.want)
			}
			if n.Load() != c.calls || fmt.Sprint(waits) != c.waits {
				t.Fatalf("%d calls, waits %v; want %d, %s", n.Load(), waits, c.calls, c.waits)
			}
		})
	}
}

// A wait cut short by the context ends the call with the context's error.
func TestAWaitCutShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	caller := Caller{Client: srv.Client(), Retries: 3, Retryable: func(int) bool { return true },
		Sleep:  func(context.Context, time.Duration) error { return context.Canceled },
		Failed: func(a Answer) error { return fmt.Errorf("status %d", a.Status) }}
	if _, err := caller.Do(context.Background(), "GET", srv.URL, nil); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
