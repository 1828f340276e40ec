// Command gcp-sim runs the Google Cloud simulator (internal/gcp/gcptest) on
// loopback, for the demo: a token endpoint and Access Context Manager's
// access levels. It is a development tool: it is never deployed.
//
//	gcp-sim -discovery testdata/gcp/accesscontextmanager-v1-discovery.json \
//	        -level accessPolicies/1/accessLevels/atlas_ip_sync=level.json \
//	        -perimeter 1/kms=accessPolicies/1/accessLevels/atlas_ip_sync \
//	        -url-file sim.url -key-file sa.json
//
// Once listening it prints the base URL (and writes it to -url-file), and
// writes a service-account key whose token_uri is its token endpoint to
// -key-file.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "gcp-sim: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var levels, perimeters multi
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	discovery := flag.String("discovery", "testdata/gcp/accesscontextmanager-v1-discovery.json", "the API's discovery document")
	urlFile := flag.String("url-file", "", "write the base URL to this file once listening")
	keyFile := flag.String("key-file", "", "write a service-account key for this simulator to this file")
	flag.Var(&levels, "level", "NAME=FILE with an access level's JSON (repeatable)")
	flag.Var(&perimeters, "perimeter", "POLICY/PERIMETER=LEVEL[,LEVEL] (repeatable)")
	flag.Parse()

	sim, err := gcptest.New(*discovery)
	if err != nil {
		return err
	}
	url, err := sim.Start(*addr)
	if err != nil {
		return err
	}
	defer sim.Close()
	for _, l := range levels {
		name, file, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("-level %q: want NAME=FILE", l)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		var level gcptest.Level
		if err := json.Unmarshal(b, &level); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		level["name"] = name
		sim.SetLevel(level)
	}
	for _, p := range perimeters {
		where, list, ok := strings.Cut(p, "=")
		policy, name, ok2 := strings.Cut(where, "/")
		if !ok || !ok2 {
			return fmt.Errorf("-perimeter %q: want POLICY/PERIMETER=LEVEL[,LEVEL]", p)
		}
		sim.SetPerimeter(policy, name, strings.Split(list, ",")...)
	}
	if *keyFile != "" {
		if err := os.WriteFile(*keyFile, sim.ServiceAccountJSON(), 0o600); err != nil {
			return err
		}
	}
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o600); err != nil {
			return err
		}
	}
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("gcp simulator listening", "url", url)
	fmt.Println(url)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
