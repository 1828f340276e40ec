package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/desired"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
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
	// What Atlas said, and admission's verdicts on it: fetch reports them
	// (exit 0, as for an empty answer); plan and apply refuse.
	refused := admission.Refused(desired.Answer(snap), s.cfg.Guards.WidestPrefix)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(fetchDoc{Snapshot: snap, Refused: refused}); err != nil {
			return fail(e, s.log, err)
		}
		return exitOK
	}
	writeSnapshotSummary(e.stdout, snap, s.cfg.Atlas.BaseURL)
	writeRefused(e.stdout, refused)
	return exitOK
}

// fetchDoc is fetch --json: the snapshot's fields, and admission's
// verdicts when it refuses a prefix.
type fetchDoc struct {
	*snapshot.Snapshot
	Refused []admission.Verdict `json:"refused,omitempty"`
}

// writeRefused lists admission's verdicts on Atlas's answer.
func writeRefused(w io.Writer, refused []admission.Verdict) {
	if len(refused) == 0 {
		return
	}
	fmt.Fprintf(w, "\nrefused: Atlas's answer holds %d prefix(es) admission refuses (public unicast, no broader than guards.widestPrefix); plan and apply refuse every target whose sources take one:\n", len(refused))
	for _, v := range refused {
		fmt.Fprintf(w, "  %s\n", v)
	}
}
