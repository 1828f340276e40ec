package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/atlasconn"
)

// cmdFetch prints what Atlas says now. It writes nothing anywhere.
func cmdFetch(ctx context.Context, e env, args []string) int {
	fs, cfgPath, asJSON := newFlags(e, "fetch")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	s, err := load(ctx, e, *cfgPath)
	if err != nil {
		return fail(e, nil, err)
	}
	client, err := atlasconn.Client(ctx, s.cfg, s.awsCfg, e.getenv, s.log)
	if err != nil {
		return fail(e, s.log, err)
	}
	start := time.Now()
	snap, err := reconcile.Fetch(ctx, client, s.cfg.Atlas.Projects, start)
	if err != nil {
		return fail(e, s.log, err)
	}
	s.log.Info("fetched", "projects", len(s.cfg.Atlas.Projects), "hash", snap.Hash, "ms", time.Since(start).Milliseconds())
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(snap); err != nil {
			return fail(e, s.log, err)
		}
		return exitOK
	}
	writeSnapshotSummary(e.stdout, snap, s.cfg.Atlas.BaseURL)
	return exitOK
}
