package plan

import (
	"fmt"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
)

// refusals are admission's verdicts on what the target's sources give.
func (in Input) refusals(w admission.Widest) []admission.Verdict {
	parts := in.Parts
	if parts == nil {
		parts = []admission.Part{{Source: "the target's sources", Set: in.Source}}
	}
	return admission.Refused(parts, w)
}

// admissionRefused is the plan of a target whose sources gave a prefix
// admission refuses: refused before any other decision, like a guard.
func admissionRefused(tp TargetPlan, in Input, refused []admission.Verdict) TargetPlan {
	tp.Status, tp.Refusals = Refused, refused
	if in.Live != nil && in.ReadErr == nil {
		tp.Actual = in.Live.Owned()
	}
	tp.Reason = fmt.Sprintf("%s holds %s admission refuses (public unicast, no broader than guards.widestPrefix): %s: the source is suspect, nothing is written",
		sourceAnswer(in), plural(len(refused), "a prefix", "prefixes"), verdictList(refused))
	return tp
}

// admitted is the record without what admission refuses: an earlier
// version may have recorded such a prefix, and it must neither get the
// removal grace nor count for a guard.
func (r *Record) admitted(w admission.Widest) *Record {
	if r == nil {
		return nil
	}
	out := *r
	out.Source = admission.Admitted(r.Source, w)
	out.Departed = nil
	for _, d := range r.Departed {
		if a := admission.Admitted(d.Addresses, w); !a.IsEmpty() {
			out.Departed = append(out.Departed, Departure{Since: d.Since, Addresses: a})
		}
	}
	return &out
}

// removedAtOnce are the owned part's prefixes admission refuses that the
// change removes (in part, when a static CIDR keeps the rest).
func removedAtOnce(actual, remove ipset.Set, w admission.Widest) []admission.Verdict {
	if remove.IsEmpty() {
		return nil
	}
	_, refused := admission.Split(actual, w)
	var out []admission.Verdict
	for _, v := range refused {
		if !remove.Intersect(ipset.Of(v.Prefix)).IsEmpty() {
			v.Source = "owned part"
			out = append(out, v)
		}
	}
	return out
}

func removedAtOnceReason(vs []admission.Verdict) string {
	var public, broad []admission.Verdict
	for _, v := range vs {
		if v.Public() {
			public = append(public, v)
		} else {
			broad = append(broad, v)
		}
	}
	var parts []string
	if len(public) > 0 {
		parts = append(parts, "not a public address: removed at once: "+verdictList(public))
	}
	if len(broad) > 0 {
		parts = append(parts, fmt.Sprintf("broader than guards.widestPrefix: removed at once: %s", verdictList(broad)))
	}
	return strings.Join(parts, "; ")
}

// maxVerdicts bounds how many verdicts a reason lists; the plan's JSON
// (refusedPrefixes, removedAtOnce) and ipsync fetch carry them all.
const maxVerdicts = 10

func verdictList(vs []admission.Verdict) string {
	var says []string
	for i, v := range vs {
		if i == maxVerdicts {
			says = append(says, fmt.Sprintf("and %d more (ipsync fetch lists them all)", len(vs)-i))
			break
		}
		if v.Source == "owned part" {
			says = append(says, v.Why())
		} else {
			says = append(says, v.String())
		}
	}
	return strings.Join(says, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf("%d %s", n, many)
}
