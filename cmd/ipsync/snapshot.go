package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// cmdSnapshot prints the stored snapshot as JSON.
func cmdSnapshot(ctx context.Context, e env, args []string) int {
	fs, cfgPath, _ := newFlags(e, "snapshot")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	s, store, code := loadStore(ctx, e, *cfgPath)
	if code >= 0 {
		return code
	}
	snap, version, err := store.Load(ctx)
	if errors.Is(err, snapshot.ErrNotFound) {
		return fail(e, s.log, fmt.Errorf("%s: %w", store.URL(), err))
	}
	if err != nil {
		return fail(e, s.log, err)
	}
	b, err := snap.Marshal()
	if err != nil {
		return fail(e, s.log, err)
	}
	s.log.Info("snapshot loaded", "url", store.URL(), "version", string(version), "hash", snap.Hash)
	fmt.Fprintf(e.stdout, "%s\n", b)
	return exitOK
}
