package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kinds"
)

// The size line says what is counted: a policy's size and form, or an
// access list's entries (written one by one: it has no form).
func TestWritePlanSizeLine(t *testing.T) {
	for _, tt := range []struct {
		target     plan.Target
		size, max  int
		form, want string
	}{
		{plan.Target{Name: "k", Type: "kms-key-policy", Resource: "r"}, 1696, 32768, "indented", "  policy size: 1696 of 32768 bytes (5%, indented)\n"},
		{plan.Target{Name: "l", Type: "atlas-access-list", Resource: "p"}, 2, 200, "", "  access list: 2 of 200 entries (1%)\n"},
	} {
		var out bytes.Buffer
		kind, _ := kinds.All().Lookup(tt.target.Type)
		tp := plan.TargetPlan{Target: tt.target, Kind: kind, Status: plan.Changes, Add: ipset.MustParse("198.51.100.7"), Size: tt.size, Limit: tt.max, Form: tt.form}
		writePlan(&out, reconcile.Report{Status: plan.Changes, Targets: []plan.TargetPlan{tp}}, false)
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%s: want %q in\n%s", tt.target.Type, tt.want, out.String())
		}
	}
}
