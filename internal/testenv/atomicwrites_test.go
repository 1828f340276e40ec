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
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		condition := r.Header.Get("If-Match") + r.Header.Get("If-None-Match")
		kinds := []string{r.Method + " " + condition}
		// Plain requests stay longest, so that they overlap even on a
		// loaded machine; the serialised writes keep the test short.
		hold := 100 * time.Millisecond
		if r.Method != http.MethodGet && condition != "" {
			kinds = append(kinds, "any conditional write")
			hold = 20 * time.Millisecond
		}
		mu.Lock()
		for _, k := range kinds {
			inFlight[k]++
			most[k] = max(most[k], inFlight[k])
		}
		mu.Unlock()
		time.Sleep(hold)
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
