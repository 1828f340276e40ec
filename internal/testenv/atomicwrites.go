package testenv

import (
	"net/http"
	"sync"
)

// atomicWrites is a reverse proxy in front of moto_server that makes its
// conditional writes atomic, as S3's are.
//
// S3 lets exactly one of several racing writes with the same If-Match or
// If-None-Match win and answers the others 412 or 409; the snapshot store's
// no-lost-update rule rests on that. moto 5.2.1 checks the condition and then
// writes in two steps with no lock (moto/s3/responses.py, put_object), so two
// such PUTs can both succeed on a loaded machine: 3 of 900 rounds of 8 racing
// PUTs with one ETag did on 2026-11-23, and the snapshot store's concurrency
// test failed in CI that way. The proxy holds one lock around each write that
// carries a condition; everything else passes straight through.
type atomicWrites struct {
	url string
	srv *http.Server
}

func startAtomicWrites(target string) (*atomicWrites, error) {
	var mu sync.Mutex
	addr, srv, err := serveProxy(target, func(forward http.Handler) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if conditionalWrite(r) {
				mu.Lock()
				defer mu.Unlock()
			}
			forward.ServeHTTP(w, r)
		}
	})
	if err != nil {
		return nil, err
	}
	return &atomicWrites{url: addr, srv: srv}, nil
}

// conditionalWrite: a PUT or POST (PutObject, CompleteMultipartUpload) with
// If-Match or If-None-Match. A conditional GET is a read and needs no lock.
func conditionalWrite(r *http.Request) bool {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return false
	}
	return r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != ""
}

func (p *atomicWrites) close() { _ = p.srv.Close() }
