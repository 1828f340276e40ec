package reconcile_test

import (
	"context"
	"fmt"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
)

// Atlas in the simulation: the addresses it draws from, its answer (the
// control plane's outbound addresses and one project's cluster, future
// node addresses included), its encryption-at-rest answer, and the steps
// that change the cluster's nodes.

// The addresses Atlas draws from: apart from each other, so that each is
// one prefix, and both families.
func simPool() []string {
	var out []string
	for i := range 14 {
		out = append(out, fmt.Sprintf("44.210.%d.%d/32", i, 2*i+1))
	}
	return append(out, "2001:db8::11/128", "2001:db8::13/128")
}

// nodePool is where the cluster's node addresses come from.
func nodePool() []string {
	var out []string
	for i := range 8 {
		out = append(out, fmt.Sprintf("18.232.%d.%d/32", i, 3*i+2))
	}
	return out
}

func (w *world) FetchAll(ctx context.Context, _ []string) (atlas.Answer, error) {
	w.yield(ctx)
	if err := ctx.Err(); err != nil { // as the Atlas client: a stopped run asks nothing
		return atlas.Answer{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls.atlas++
	if w.fetchFail > 0 {
		w.fetchFail--
		return atlas.Answer{}, w.fetchErr
	}
	answer, nodes, future := w.poisoned("outbound", w.answer), w.poisoned("nodes", w.nodes), w.poisoned("future", w.future)
	w.fetched, w.fetchedNodes = answer, ipset.Union(nodes, future)
	return atlas.Answer{
		ControlPlane: atlas.ControlPlane{Outbound: atlas.ProviderIPs{"aws": {"us-east-1": answer}}},
		Projects:     []atlas.Project{{GroupID: reconciletest.Project, Clusters: []atlas.Cluster{{Name: "c0", Outbound: nodes, FutureOutbound: future}}}},
	}, nil
}

// atlasFailure is how Atlas's answer fails: a status (429, 500, 503) as
// the client reports it once its retries are spent, or a call that ran out
// of its time.
func atlasFailure(what string) error {
	switch what {
	case "429":
		return &atlas.APIError{Status: 429, ErrorCode: "RATE_LIMITED"}
	case "500":
		return &atlas.APIError{Status: 500, ErrorCode: "UNEXPECTED_ERROR"}
	case "503":
		return &atlas.APIError{Status: 503, ErrorCode: "SERVICE_UNAVAILABLE"}
	}
	return fmt.Errorf("fetch control plane: %w", context.DeadlineExceeded)
}

// EncryptionAtRest is Atlas's answer for the key's project: whether it
// can use the key, as the history last set it.
func (w *world) EncryptionAtRest(ctx context.Context, _ string) (atlas.EncryptionAtRest, error) {
	w.yield(ctx)
	if err := ctx.Err(); err != nil {
		return atlas.EncryptionAtRest{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls.encryption++
	return atlas.EncryptionAtRest{Enabled: true, Valid: !w.keyLost, Providers: []string{"awsKms"}}, nil
}

// nodeStep changes the cluster's node addresses: one is added, Atlas
// publishes one for future use, a future one goes live (the sources do not
// change: both are allowed), or one is dropped while more than three are
// left (more at once is what maxRemovePercent refuses).
func (s *sim) nodeStep(k int) {
	w := s.w
	switch {
	case k < 2:
		a := s.pick(nodePool())
		w.nodes, w.future = ipset.Union(w.nodes, ipset.MustParse(a)), w.future.Minus(ipset.MustParse(a))
		s.log = append(s.log, "atlas adds node "+a)
	case k < 3:
		a := s.pick(nodePool())
		if w.nodes.Intersect(ipset.MustParse(a)).IsEmpty() {
			w.future = ipset.Union(w.future, ipset.MustParse(a))
			s.log = append(s.log, "atlas publishes future node "+a)
		}
	case k < 4:
		if ps := w.future.Strings(); len(ps) > 0 {
			a := s.pick(ps)
			w.future = w.future.Minus(ipset.MustParse(a))
			w.nodes = ipset.Union(w.nodes, ipset.MustParse(a))
			s.log = append(s.log, "future node "+a+" goes live")
		}
	default:
		if ps := ipset.Union(w.nodes, w.future).Strings(); len(ps) > 3 {
			a := s.pick(ps)
			w.nodes, w.future = w.nodes.Minus(ipset.MustParse(a)), w.future.Minus(ipset.MustParse(a))
			s.log = append(s.log, "atlas drops node "+a)
		}
	}
}
