package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

// cmdPlan fetches, reads the live policies and prints the plan. It writes
// nothing (but the --out file).
func cmdPlan(ctx context.Context, e env, args []string) int {
	fs, cfgPath, asJSON := newFlags(e, "plan")
	out := fs.String("out", "", "also save the plan to this file, for apply --plan")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	r, code := reconcileRun(ctx, e, *cfgPath, reconcile.Options{DryRun: true})
	if code >= 0 {
		return code
	}
	if *out != "" && r.Err == nil {
		b, err := json.MarshalIndent(plan.Save(r.Hash, r.Targets), "", "  ")
		if err != nil {
			return fail(e, nil, fmt.Errorf("save plan: %w", err))
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
			return fail(e, nil, fmt.Errorf("save plan: %w", err))
		}
	}
	printReport(e, r, *asJSON, false)
	switch r.Status {
	case plan.InSync:
		return exitOK
	case plan.Changes:
		return exitChanges
	case plan.Refused:
		return exitRefused
	}
	return exitError
}

// cmdApply plans and applies; with --plan, only if nothing moved since.
func cmdApply(ctx context.Context, e env, args []string) int {
	fs, cfgPath, asJSON := newFlags(e, "apply")
	saved := fs.String("plan", "", "apply this saved plan, only if the live state and Atlas's answer still match it")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	o := reconcile.Options{Trigger: reconcile.TriggerCLI}
	if *saved != "" {
		b, err := os.ReadFile(*saved)
		if err != nil {
			return fail(e, nil, fmt.Errorf("read saved plan: %w", err))
		}
		if o.Expect, err = plan.ParseSaved(b); err != nil {
			return fail(e, nil, err)
		}
	}
	r, code := reconcileRun(ctx, e, *cfgPath, o)
	if code >= 0 {
		return code
	}
	printReport(e, r, *asJSON, true)
	switch {
	case r.Status == plan.Refused:
		return exitRefused
	case r.Status == plan.Error || r.Err != nil:
		return exitError
	}
	return exitOK
}

// reconcileRun loads the config, builds the adapters and runs the loop. A
// code ≥ 0 means the command ends there.
func reconcileRun(ctx context.Context, e env, cfgPath string, o reconcile.Options) (reconcile.Report, int) {
	s, err := load(ctx, e, cfgPath)
	if err != nil {
		return reconcile.Report{}, fail(e, nil, err)
	}
	deps, err := reconciler.Deps(ctx, s.cfg, s.awsCfg, e.getenv, s.log)
	if err != nil {
		return reconcile.Report{}, fail(e, s.log, err)
	}
	r := reconcile.Run(ctx, s.cfg, deps, o)
	if r.Err != nil {
		s.log.Error("run failed", "error", r.Err.Error())
	}
	return r, -1
}

// document is the --json output (docs/design.md "CLI").
type document struct {
	Status   plan.Status       `json:"status"`
	Error    string            `json:"error,omitempty"`
	Snapshot snapshotDoc       `json:"snapshot"`
	Targets  []plan.TargetPlan `json:"targets"`
}

type snapshotDoc struct {
	Hash    string `json:"hash"`
	Changed bool   `json:"changed"`
}

func printReport(e env, r reconcile.Report, asJSON, applied bool) {
	if asJSON {
		doc := document{Status: r.Status, Snapshot: snapshotDoc{Hash: r.Hash, Changed: r.Changed}, Targets: r.Targets}
		if doc.Targets == nil {
			doc.Targets = []plan.TargetPlan{}
		}
		if r.Err != nil {
			doc.Error = r.Err.Error()
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(doc)
		return
	}
	writePlan(e.stdout, r, applied)
	if r.Err != nil {
		fmt.Fprintf(e.stderr, "ipsync: %v\n", r.Err)
	}
}
