package testenv

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// serveProxy serves handler on a free loopback port; handler gets the
// reverse proxy to target to forward with. It returns the proxy's URL.
func serveProxy(target string, handler func(forward http.Handler) http.HandlerFunc) (string, *http.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: handler(httputil.NewSingleHostReverseProxy(u))}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), srv, nil
}
