// Command azure-sim runs the Azure simulator (internal/azure/azuretest) on
// loopback, for the demo: Entra's token endpoint, STS GetWebIdentityToken
// as the issuer Entra trusts, and Key Vault's management GET and PATCH. It
// is a development tool: it is never deployed.
//
//	azure-sim -spec testdata/azure/keyvault-2024-11-01.json \
//	          -vault /subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/NAME=203.0.113.0/24 \
//	          -url-file sim.url
//
// Once listening it prints the base URL (and writes it to -url-file). The
// tenant, client and client secret it trusts are azuretest's constants.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "azure-sim: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var vaults multi
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	spec := flag.String("spec", "testdata/azure/keyvault-2024-11-01.json", "the Key Vault management Swagger (common.json beside it)")
	urlFile := flag.String("url-file", "", "write the base URL to this file once listening")
	flag.Var(&vaults, "vault", "ID=RULE[,RULE]: a vault and its IP rules (repeatable); defaultAction Deny")
	flag.Parse()

	sim, err := azuretest.New(*spec)
	if err != nil {
		return err
	}
	url, err := sim.Start(*addr)
	if err != nil {
		return err
	}
	defer sim.Close()
	for _, v := range vaults {
		id, rules, _ := strings.Cut(v, "=")
		if !strings.HasPrefix(id, "/subscriptions/") {
			return fmt.Errorf("-vault %q: want /subscriptions/…/vaults/NAME=RULE[,RULE]", v)
		}
		var list []string
		if rules != "" {
			list = strings.Split(rules, ",")
		}
		vault := azuretest.NewVault(id, list...)
		vault["tags"] = map[string]any{"env": "demo"}
		sim.SetVault(vault)
	}
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o600); err != nil {
			return err
		}
	}
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("azure simulator listening", "url", url)
	fmt.Println(url)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
