package reconcile

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// readAll reads every target's fence, through Deps.each.
func (d Deps) readAll(ctx context.Context, rs []*reading, timeout time.Duration) {
	d.each(len(rs), func(i int) {
		r := rs[i]
		r.fence, r.err = d.readFence(ctx, r.plan.Type, r.plan.RoleArn, r.plan.Ref(), timeout)
	})
}

// each runs do(0) … do(n-1) and returns when all have: through Deps.Each
// when set, else each in a goroutine of its own.
func (d Deps) each(n int, do func(i int)) {
	if d.Each != nil {
		d.Each(n, do)
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(i)
		}()
	}
	wg.Wait()
}

// readFence reads one target's fence (target.Adapters.Read).
func (d Deps) readFence(ctx context.Context, typ config.TargetType, as string, ref target.Ref, timeout time.Duration) (target.Fence, error) {
	return d.Adapters.Read(ctx, target.AdapterKey{Type: typ, As: as}, ref, timeout)
}

// natSources reads each target's nat-gateways sources, once per role and
// tag in the run, each named as admission's verdicts name it; a failure is
// that target's error.
func (d Deps) natSources(ctx context.Context, rs []*reading, timeout time.Duration) {
	seen := map[string]ipset.Set{}
	for _, r := range rs {
		t := r.cfg
		for _, s := range t.Sources {
			if s.Kind != config.SourceNATGateways || r.err != nil {
				continue
			}
			if d.NAT == nil {
				r.err = errors.New("no NAT gateway reader for a nat-gateways source")
				continue
			}
			key := t.RoleArn + " " + s.String()
			set, ok := seen[key]
			if !ok {
				cctx, cancel := context.WithTimeout(ctx, timeout)
				var err error
				set, err = d.NAT.PublicIPs(cctx, t.RoleArn, s.TagKey, s.TagValue)
				cancel()
				if err != nil {
					r.err = target.ThroughRole(t.RoleArn, err)
					continue
				}
				seen[key] = set
			}
			where := s.String()
			if t.RoleArn != "" {
				where += " through role " + t.RoleArn
			}
			r.nat = append(r.nat, admission.Part{Source: where, Set: set})
		}
	}
}

// sharedLimits plans again, against what is really left, each target
// about to change whose limit it shares with other documents. Only a change
// needs it: a run with nothing to change makes no extra call.
func (d Deps) sharedLimits(ctx context.Context, p *plan.Plan, inputs []plan.Input, g plan.Guards, now time.Time, timeout time.Duration) {
	for i, tp := range p.Targets {
		if tp.Status != plan.Changes {
			continue
		}
		a, err := d.adapter(tp.Type, tp.RoleArn)
		shared, ok := a.(target.SharedRoom)
		if err != nil || !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		room, err := shared.Room(cctx, tp.Ref())
		cancel()
		inputs[i].Room, inputs[i].ReadErr = &room, target.ThroughRole(tp.RoleArn, err)
		p.Replan(i, inputs[i], g, now)
	}
}
