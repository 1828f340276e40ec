// Command atlas-sim runs the Atlas Admin API simulator (internal/atlas/atlastest)
// on loopback, for the demo and for trying ipsync by hand. It is a development
// tool: it is never deployed.
//
//	atlas-sim -addr 127.0.0.1:0 -api-key PUB:PRIV -control-plane cp.json \
//	          -project 5aec7afbf7d068e35a39809b=clusters.json -url-file sim.url
//
// Once listening it prints the base URL (and writes it to -url-file). The
// scripting API under /_sim/ changes addresses and injects faults while it runs.
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

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "atlas-sim: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var apiKeys, serviceAccounts, projects multi
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	cpFile := flag.String("control-plane", "", "JSON file with the control-plane answer")
	urlFile := flag.String("url-file", "", "write the base URL to this file once listening")
	alg := flag.String("digest", "MD5", "digest algorithm: MD5 or SHA-256")
	flag.Var(&apiKeys, "api-key", "PUBLIC:PRIVATE API key to accept (repeatable)")
	flag.Var(&serviceAccounts, "service-account", "CLIENT_ID:SECRET service account to accept (repeatable)")
	flag.Var(&projects, "project", "GROUP_ID=FILE with a JSON array of clusters (repeatable)")
	flag.Parse()

	sim := atlastest.New()
	sim.EnableAdmin()
	sim.SetDigestAlgorithm(*alg)
	for _, k := range apiKeys {
		pub, priv, ok := strings.Cut(k, ":")
		if !ok {
			return fmt.Errorf("-api-key %q: want PUBLIC:PRIVATE", k)
		}
		sim.AddAPIKey(pub, priv)
	}
	for _, sa := range serviceAccounts {
		id, secret, ok := strings.Cut(sa, ":")
		if !ok {
			return fmt.Errorf("-service-account: want CLIENT_ID:SECRET")
		}
		sim.AddServiceAccount(id, secret)
	}
	if *cpFile != "" {
		var cp atlastest.ControlPlaneIPs
		if err := readJSON(*cpFile, &cp); err != nil {
			return err
		}
		sim.SetControlPlane(cp)
	}
	for _, p := range projects {
		id, file, ok := strings.Cut(p, "=")
		if !ok {
			return fmt.Errorf("-project %q: want GROUP_ID=FILE", p)
		}
		var clusters []atlastest.Cluster
		if err := readJSON(file, &clusters); err != nil {
			return err
		}
		sim.SetProject(id, clusters...)
	}
	url, err := sim.Start(*addr)
	if err != nil {
		return err
	}
	defer sim.Close()
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o600); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	log.Info("atlas simulator listening", "url", url)
	fmt.Println(url)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
