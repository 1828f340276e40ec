package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/hook"
)

// cmdWebhook runs the webhook function's handler as a local HTTP server.
func cmdWebhook(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(e.stderr, "usage: ipsync webhook serve [--config F] [--addr 127.0.0.1:8080]")
		return exitError
	}
	fs, cfgPath, _ := newFlags(e, "webhook serve")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	if code := parseFlags(fs, args[1:]); code >= 0 {
		return code
	}
	s, err := load(ctx, e, *cfgPath)
	if err != nil {
		return fail(e, nil, err)
	}
	h, err := hook.Handler(s.cfg, s.awsCfg, s.log)
	if err != nil {
		return fail(e, s.log, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(e, s.log, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	s.log.Info("webhook listening", "url", "http://"+ln.Addr().String())
	fmt.Fprintf(e.stdout, "http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(e, s.log, err)
	}
	return exitOK
}
