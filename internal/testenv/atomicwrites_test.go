package testenv

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestConditionalWritesOneAtATime: behind the proxy, racing conditional
// writes reach the backend one at a time, while other requests still
// overlap (so the test can see overlap when it happens).
func TestConditionalWritesOneAtATime(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := map[string]int{}, map[string]int{}
	// A plain request waits at the backend until a second of its kind
	// arrives (an event, however loaded the machine); a proxy that
	// serialised them would leave it waiting out the 10 s, alone.
	paired := map[string]chan struct{}{"PUT ": make(chan struct{}), `GET "etag"`: make(chan struct{})}
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		condition := r.Header.Get("If-Match") + r.Header.Get("If-None-Match")
		kinds := []string{r.Method + " " + condition}
		serialised := r.Method != http.MethodGet && condition != ""
		if serialised {
			kinds = append(kinds, "any conditional write")
		}
		mu.Lock()
		for _, k := range kinds {
			inFlight[k]++
			most[k] = max(most[k], inFlight[k])
		}
		pair := paired[kinds[0]]
		if pair != nil && inFlight[kinds[0]] == 2 {
			close(pair)
			paired[kinds[0]] = nil
		}
		mu.Unlock()
		switch {
		case pair != nil:
			select {
			case <-pair:
			case <-time.After(10 * time.Second):
			}
		case serialised:
			// Held a little, so that writes a broken proxy let through
			// together overlap here and are counted.
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		for _, k := range kinds {
			inFlight[k]--
		}
		mu.Unlock()
	}))
	defer backend.Close()
	p, err := startAtomicWrites(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	requests := []struct{ method, header, value string }{
		{http.MethodPut, "If-Match", `"etag"`},
		{http.MethodPut, "If-None-Match", "*"},
		{http.MethodPost, "If-Match", `"etag"`},
		{http.MethodPut, "", ""},
		{http.MethodGet, "If-Match", `"etag"`},
	}
	var wg sync.WaitGroup
	for _, rq := range requests {
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(rq.method, p.url+"/bucket/key", nil)
				if rq.header != "" {
					req.Header.Set(rq.header, rq.value)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}()
		}
	}
	wg.Wait()
	for _, k := range []string{`PUT "etag"`, "PUT *", `POST "etag"`, "any conditional write"} {
		if most[k] != 1 {
			t.Errorf("%s: %d at once at the backend, want 1", k, most[k])
		}
	}
	for _, k := range []string{"PUT ", `GET "etag"`} {
		if most[k] < 2 {
			t.Errorf("%s: at most %d at once; plain requests should pass in parallel", k, most[k])
		}
	}
}
