package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// cmdUnblock clears the block a rollback put on a target, so that the next
// run may change it again. It changes no policy itself.
func cmdUnblock(ctx context.Context, e env, args []string) int {
	fs, cfgPath, _ := newFlags(e, "unblock")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ipsync unblock [--config FILE] TARGET")
		fs.PrintDefaults()
	}
	names, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitError
	}
	if len(names) != 1 {
		fmt.Fprintf(e.stderr, "ipsync unblock: name one target (got %d): ipsync unblock [--config FILE] TARGET\n", len(names))
		return exitError
	}
	s, store, code := loadStore(ctx, e, *cfgPath)
	if code >= 0 {
		return code
	}
	b, err := snapshot.Unblock(ctx, store, names[0])
	if err != nil {
		return fail(e, s.log, fmt.Errorf("unblock %s: %w", names[0], err))
	}
	s.log.Info("target unblocked", "target", names[0], "blockedSince", b.Since)
	fmt.Fprintf(e.stdout, "Unblocked %s (blocked since %s: %s).\nThe next run (ipsync plan shows it) may change it again:", names[0], b.Since.Format(time.RFC3339), b.Reason)
	fmt.Fprintf(e.stdout, " the change that was rolled back was %s.\n", describeChange(b.Add.Strings(), b.Remove.Strings()))
	if b.Pending {
		// The run stopped between deciding the rollback and knowing it
		// written; the next run would have finished it, and now will not.
		fmt.Fprintf(e.stdout, "Its rollback was never known to be written: the policy may still hold that change, and no run restores %s now (ipsync plan shows what it holds).\n", b.Restore)
	}
	return exitOK
}

// parseInterleaved accepts flags before and after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func describeChange(add, remove []string) string {
	var parts []string
	for _, a := range add {
		parts = append(parts, "+"+a)
	}
	for _, r := range remove {
		parts = append(parts, "-"+r)
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, " ")
}
