package functions_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// callSource is a service the reconcile bootstrap calls.
type callSource string

const (
	sourceAWS   callSource = "aws"
	sourceAtlas callSource = "atlas"
	sourceGCP   callSource = "gcp"
	sourceAzure callSource = "azure"
)

// callClass is where time-to-fence goes.
type callClass string

const (
	classAtlas    callClass = "atlas-fetch" // Atlas's addresses
	classVerify   callClass = "verify"      // Atlas's encryption-at-rest answer after a write
	classReads    callClass = "reads"       // reading fences
	classWrites   callClass = "writes"      // writing fences
	classSnapshot callClass = "snapshot"    // S3: the snapshot, its lease, the published sets
	classSecrets  callClass = "secrets"     // Secrets Manager, OAuth tokens
	classAlerts   callClass = "alerts"      // SNS
)

var classes = []callClass{classAtlas, classVerify, classReads, classWrites, classSnapshot, classSecrets, classAlerts}

// call is one request through the timer.
type call struct {
	class      callClass
	op         string // the operation, as classify read it
	start, end time.Time
}

// callTimer is a reverse proxy per service that records when each request
// started and ended, and what it was for.
type callTimer struct {
	mu    sync.Mutex
	log   []call
	addrs map[callSource]string
}

func newCallTimer(tb testing.TB, upstreams map[callSource]string) *callTimer {
	ct := &callTimer{addrs: map[callSource]string{}}
	for src, up := range upstreams {
		u, err := url.Parse(up)
		if err != nil {
			tb.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(u)
		proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			tb.Logf("timer: %s %s %s: %v", src, r.Method, r.URL, err)
			w.WriteHeader(http.StatusBadGateway)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		srv := &http.Server{Handler: ct.timed(src, proxy)}
		go func() { _ = srv.Serve(l) }()
		tb.Cleanup(func() { _ = srv.Close() })
		ct.addrs[src] = "http://" + l.Addr().String()
	}
	return ct
}

func (ct *callTimer) url(src callSource) string { return ct.addrs[src] }

func (ct *callTimer) timed(src callSource, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		class, op := classify(src, r, body)
		start := time.Now()
		next.ServeHTTP(w, r)
		ct.mu.Lock()
		ct.log = append(ct.log, call{class: class, op: string(src) + ":" + op, start: start, end: time.Now()})
		ct.mu.Unlock()
	})
}

func (ct *callTimer) reset() { ct.mu.Lock(); ct.log = nil; ct.mu.Unlock() }

func (ct *callTimer) calls() []call {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return slices.Clone(ct.log)
}

// classify names what a request was for: by path for Atlas, GCP and Azure;
// for AWS by service and operation, as the fault proxy names them.
func classify(src callSource, r *http.Request, body []byte) (callClass, string) {
	switch src {
	case sourceAtlas:
		if strings.Contains(r.URL.Path, "encryptionAtRest") {
			return classVerify, "encryptionAtRest"
		}
		return classAtlas, r.Method + " " + lastSegment(r.URL.Path)
	case sourceGCP, sourceAzure:
		op := r.Method + " " + lastSegment(r.URL.Path)
		switch {
		case strings.Contains(r.URL.Path, "token"):
			return classSecrets, op
		case r.Method == http.MethodGet:
			return classReads, op
		}
		return classWrites, op
	}
	service, op := testenv.IdentifyAWS(r, body)
	switch {
	case service == "secretsmanager" || service == "sts":
		return classSecrets, op
	case service == "sns":
		return classAlerts, op
	case service == "s3":
		return classSnapshot, op
	case strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "List"):
		return classReads, op
	}
	return classWrites, op
}

func lastSegment(path string) string {
	if i := strings.LastIndex(path, "/"); i >= 0 {
		return path[i+1:]
	}
	return path
}

// busy is, per class, how long at least one of its calls was in flight:
// concurrent calls count once, so the figures are wall-clock time.
func busy(calls []call) map[callClass]time.Duration {
	out := map[callClass]time.Duration{}
	for _, c := range classes {
		var spans []call
		for _, x := range calls {
			if x.class == c {
				spans = append(spans, x)
			}
		}
		slices.SortFunc(spans, func(a, b call) int { return a.start.Compare(b.start) })
		var total time.Duration
		var end time.Time
		for _, s := range spans {
			switch {
			case s.start.After(end):
				total += s.end.Sub(s.start)
				end = s.end
			case s.end.After(end):
				total += s.end.Sub(end)
				end = s.end
			}
		}
		out[c] = total
	}
	return out
}

func TestBusyCountsOverlapOnce(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	got := busy([]call{
		{classReads, "", at(0), at(10)}, {classReads, "", at(5), at(12)}, {classReads, "", at(20), at(25)}, // 12 + 5
		{classWrites, "", at(0), at(30)}, {classWrites, "", at(2), at(3)}, // inside the first
	})
	if got[classReads] != 17*time.Millisecond || got[classWrites] != 30*time.Millisecond || got[classVerify] != 0 {
		t.Errorf("busy %v", got)
	}
}
