package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

// writePlan prints a plan (or what apply did) for a person: per target the
// +/- lines, what the removal grace keeps, the reason and the size.
func writePlan(w io.Writer, r reconcile.Report, applied bool) {
	if r.Hash != "" {
		state := "unchanged since the last recorded run"
		if r.Changed {
			state = "changed since the last recorded run"
		}
		fmt.Fprintf(w, "Atlas's answer: %s (%s)\n", r.Hash, state)
	}
	counts := map[plan.Status]int{}
	for _, t := range r.Targets {
		counts[t.Status]++
		fmt.Fprintf(w, "\n%s  %s %s  [%s]\n", t.Name, t.Type, t.Resource, t.Status)
		for _, p := range t.Add.Strings() {
			fmt.Fprintf(w, "  + %s\n", p)
		}
		for _, p := range t.Remove.Strings() {
			fmt.Fprintf(w, "  - %s\n", p)
		}
		if !t.Kept.IsEmpty() {
			fmt.Fprintf(w, "  kept until the removal grace ends: %s\n", strings.Join(t.Kept.Strings(), " "))
		}
		if t.Reason != "" {
			fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(t.Reason, "\n", "\n  "))
		}
		if t.Size > 0 && t.Kind != nil {
			form := ""
			if t.Form != "" {
				form = ", " + t.Form
			}
			fmt.Fprintf(w, "  %s: %d of %d %s (%d%%%s)\n", t.Kind.Words().Size, t.Size, t.Limit, t.Kind.Capacity().Unit, 100*t.Size/max(t.Limit, 1), form)
		}
	}
	fmt.Fprintln(w)
	switch {
	case r.Status == plan.Refused:
		fmt.Fprintln(w, "Refused: nothing was written. The guard's reason is above; fix the cause or the guard, then run again.")
	case applied:
		fmt.Fprintf(w, "Applied: %d changed, %d already in sync, %d failed%s.\n", counts[plan.Applied], counts[plan.InSync], counts[plan.Error], heldBack(counts))
	case r.Status == plan.Changes:
		fmt.Fprintf(w, "Plan: %d to change, %d in sync, %d failed. Nothing was written; run ipsync apply to apply.\n", counts[plan.Changes], counts[plan.InSync], counts[plan.Error])
	case counts[plan.Blocked] > 0 && counts[plan.Error] == 0:
		fmt.Fprintf(w, "Plan: %d to change, %d in sync%s. Blocked targets take no change until ipsync unblock.\n", counts[plan.Changes], counts[plan.InSync], heldBack(counts))
	case r.Status == plan.InSync:
		fmt.Fprintln(w, "Everything is in sync. Nothing to do.")
	case len(r.Targets) > 0:
		fmt.Fprintf(w, "Errors: %d target(s) could not be planned; see above.\n", counts[plan.Error])
	}
}

// heldBack counts the targets a rollback holds back, when there are any.
func heldBack(counts map[plan.Status]int) string {
	var out string
	if n := counts[plan.RolledBack]; n > 0 {
		out += fmt.Sprintf(", %d rolled back", n)
	}
	if n := counts[plan.Blocked]; n > 0 {
		out += fmt.Sprintf(", %d blocked", n)
	}
	return out
}
