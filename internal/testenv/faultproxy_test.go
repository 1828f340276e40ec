package testenv

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A fault that lands reaches the service and still answers the error; a
// plain fault never reaches it.
func TestAFaultThatLandsReachesTheService(t *testing.T) {
	var reached atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer backend.Close()
	p, err := StartFaultProxy(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	put := func() int {
		req, _ := http.NewRequest(http.MethodPost, p.URL, strings.NewReader("{}"))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/kms/aws4_request")
		req.Header.Set("X-Amz-Target", "TrentService.PutKeyPolicy")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		landed bool
		want   int32
	}{{false, 0}, {true, 1}} {
		reached.Store(0)
		p.Inject(AWSFault{Service: "kms", Op: "PutKeyPolicy", Status: 403, Code: "AccessDeniedException", Times: 1, Landed: c.landed})
		if got := put(); got != 403 || reached.Load() != c.want {
			t.Errorf("landed %v: answered %d, the service saw %d request(s), want 403 and %d", c.landed, got, reached.Load(), c.want)
		}
	}
	if got := put(); got != 200 || reached.Load() != 2 {
		t.Errorf("with the faults used up: answered %d, the service saw %d request(s)", got, reached.Load())
	}
}
