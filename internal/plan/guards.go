package plan

import (
	"fmt"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// MinAddresses refuses a target whose sources give fewer than n prefixes. It
// counts what Atlas gave, not static CIDRs or addresses kept by the removal
// grace, so that an empty answer can never empty a fence however it is
// padded. A target with no Atlas source counts its static CIDRs.
func MinAddresses(n int) Guard {
	return func(in Input, p *TargetPlan) string {
		got, what := in.Source.Len(), sourceAnswer(in)+" gives this target"
		if !in.HasSources {
			got, what = in.Static.Len(), "this target's static list has"
		}
		if got < n {
			return fmt.Sprintf("%s %d address(es), fewer than guards.minAddresses (%d): the source is suspect, nothing is written", what, got, n)
		}
		return ""
	}
}

// NeverAllowAll refuses a desired set that would allow every address of a
// family. Admission and the config keep each prefix narrow; this holds
// when many narrow ones add up (and an Atlas access list restarts the
// project's clusters when 0.0.0.0/0 appears or goes).
func NeverAllowAll(in Input, p *TargetPlan) string {
	for _, pre := range p.Desired.Prefixes() {
		if pre.Bits() == 0 {
			return fmt.Sprintf("the desired set would allow every address (%s): ipsync never writes it; nothing is written", pre)
		}
	}
	return ""
}

// sourceAnswer names what a target's sources are: Atlas's answer, or for an
// access list the NAT gateways' (a refusal must send on-call to the right
// place).
func sourceAnswer(in Input) string {
	if in.Kind != nil && in.Kind.Rules().Feeds == target.FeedNATGateways {
		return "The NAT gateways' answer"
	}
	return "Atlas's answer"
}

// MaxRemovePercent refuses when Atlas's answer lost more than pct percent of
// the addresses recorded for the target last time. It watches the source,
// not the policy: a first run has no record, and drift correction may remove
// hand-added addresses freely.
func MaxRemovePercent(pct float64) Guard {
	return func(in Input, p *TargetPlan) string {
		if in.Record == nil || in.Record.Source.IsEmpty() {
			return ""
		}
		lost := in.Record.Source.Minus(in.Source)
		share := 100 * lost.Count() / in.Record.Source.Count()
		if share > pct {
			return fmt.Sprintf("%s lost %.1f%% of the %d prefix(es) recorded for this target (%s), more than guards.maxRemovePercent (%g%%): the source is suspect, nothing is written",
				sourceAnswer(in), share, in.Record.Source.Len(), lost, pct)
		}
		return ""
	}
}

// RemovalGrace keeps addresses that left Atlas's answer less than grace ago.
// It returns the addresses kept and the departures to remember: earlier
// groups keep their time, addresses that left just now start a new group at
// now, and groups that came back or outlived the grace are dropped. What
// left is judged against the record's sources and against unrecorded: what
// the fence holds of writes earlier runs claimed and never recorded (a run
// that wrote an address Atlas gave and stopped before recording it).
func RemovalGrace(rec *Record, source, unrecorded ipset.Set, now time.Time, grace time.Duration) (kept ipset.Set, departed []Departure) {
	if rec == nil {
		rec = &Record{}
	}
	var known []ipset.Set
	for _, d := range rec.Departed {
		known = append(known, d.Addresses)
	}
	absent := ipset.Union(append(known, rec.Source, unrecorded)...).Minus(source)
	var keep []ipset.Set
	for _, d := range rec.Departed {
		still := d.Addresses.Intersect(absent)
		if still.IsEmpty() || now.Sub(d.Since) >= grace {
			continue
		}
		departed = append(departed, Departure{Since: d.Since, Addresses: still})
		keep = append(keep, still)
	}
	if fresh := absent.Minus(ipset.Union(known...)); !fresh.IsEmpty() && grace > 0 {
		departed = append(departed, Departure{Since: now, Addresses: fresh})
		keep = append(keep, fresh)
	}
	return ipset.Union(keep...), departed
}
