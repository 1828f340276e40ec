// Command ipsync shows and corrects the IP allow-lists that guard MongoDB
// Atlas encryption at rest. docs/design.md lists the commands and their
// exit codes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes (docs/design.md "CLI").
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2 // plan: changes pending
	exitRefused = 3 // a guard refused
)

const usage = `usage: ipsync <command> [flags]

commands:
  fetch     print Atlas's current answer, normalised (--json: the snapshot document)
  plan      fetch, read the live policies and print what would change (writes nothing)
            exit 0 in sync, 2 changes pending, 3 refused by a guard, 1 error
  apply     plan, then write the changed policies, verify them and record the snapshot
            exit 0 done, 3 refused (nothing written), 1 error
  snapshot  print the stored snapshot
  unblock TARGET
            let ipsync change a target again after it rolled a change back
            (Atlas lost encryption at rest after it); exit 0 done, 1 error
  doctor    check the setup, one line per check (Atlas credentials and access list,
            every target's statement and headroom, snapshot, topic, queue, last runs)
            exit 0 all passed (warnings allowed), 1 a check failed
  config    check the config file (no call made) and print it as the JSON
            the functions read from IPSYNC_CONFIG
  webhook serve [--addr 127.0.0.1:8080]
            the webhook function's handler as a local HTTP server

Run 'ipsync <command> -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env is what a command may read of its surroundings; tests pass their own.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "fetch":
		return cmdFetch(ctx, e, args[1:])
	case "plan":
		return cmdPlan(ctx, e, args[1:])
	case "apply":
		return cmdApply(ctx, e, args[1:])
	case "webhook":
		return cmdWebhook(ctx, e, args[1:])
	case "snapshot":
		return cmdSnapshot(ctx, e, args[1:])
	case "config":
		return cmdConfig(e, args[1:])
	case "doctor":
		return cmdDoctor(ctx, e, args[1:])
	case "unblock":
		return cmdUnblock(ctx, e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "ipsync: unknown command %q\n\n%s", args[0], usage)
	return exitError
}
