package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// writeSnapshotSummary prints a snapshot for a person: every address, grouped
// the way Atlas groups them, and a warning where a list is empty.
func writeSnapshotSummary(w io.Writer, s *snapshot.Snapshot, baseURL string) {
	fmt.Fprintf(w, "Atlas (%s) answered at %s\n", baseURL, s.FetchedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "snapshot hash %s\n", s.Hash)

	section := func(title string, r snapshot.Regions) int {
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		total := 0
		for _, provider := range slices.Sorted(maps.Keys(r)) {
			for _, region := range slices.Sorted(maps.Keys(r[provider])) {
				set := r[provider][region]
				total += set.Len()
				fmt.Fprintf(tw, "  %s/%s\t%d\t%s\n", provider, region, set.Len(), list(set))
			}
		}
		tw.Flush()
		if total == 0 {
			fmt.Fprintln(w, "  (none)")
		}
		return total
	}
	out := section("Control plane, outbound (Atlas reaches your KMS key from these):", s.ControlPlane.Outbound)
	section("Control plane, inbound:", s.ControlPlane.Inbound)
	for _, name := range slices.Sorted(maps.Keys(s.ControlPlane.Gateways)) {
		g := s.ControlPlane.Gateways[name]
		section("Gateway "+name+", outbound:", g.Outbound)
		section("Gateway "+name+", inbound:", g.Inbound)
	}
	for _, id := range slices.Sorted(maps.Keys(s.Projects)) {
		p := s.Projects[id]
		fmt.Fprintf(w, "\nProject %s: %d cluster(s)\n", id, len(p.Clusters))
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, name := range slices.Sorted(maps.Keys(p.Clusters)) {
			c := p.Clusters[name]
			fmt.Fprintf(tw, "  %s\tinbound\t%s\n", name, list(c.Inbound))
			fmt.Fprintf(tw, "  \toutbound\t%s\n", list(c.Outbound))
			fmt.Fprintf(tw, "  \tfutureInbound\t%s\n", list(c.FutureInbound))
			fmt.Fprintf(tw, "  \tfutureOutbound\t%s\n", list(c.FutureOutbound))
		}
		tw.Flush()
	}
	if out == 0 {
		fmt.Fprintln(w, "\nwarning: Atlas listed no control-plane outbound addresses. plan and apply refuse to write an empty list (guards.minAddresses).")
	}
}

func list(s ipset.Set) string {
	if s.IsEmpty() {
		return "-"
	}
	return strings.Join(s.Strings(), " ")
}
