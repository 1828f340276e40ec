package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
)

// readAll reads every target's policy in parallel.
func (d Deps) readAll(ctx context.Context, targets []config.Target, timeout time.Duration) ([][]byte, []error) {
	docs := make([][]byte, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			docs[i], errs[i] = d.readPolicy(ctx, t.Type, t.RoleArn, t.Resource, timeout)
		}()
	}
	wg.Wait()
	return docs, errs
}

// readPolicy reads one target's policy document.
func (d Deps) readPolicy(ctx context.Context, typ config.TargetType, roleArn, resource string, timeout time.Duration) ([]byte, error) {
	a, err := d.adapter(typ, roleArn)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	doc, err := a.Read(cctx, resource)
	return doc, throughRole(roleArn, err)
}

// throughRole names, in a target's error, the role it is reached through:
// the SDK's error says only "AssumeRole ... AccessDenied" or "get
// credentials: request canceled", and a run may use several roles.
func throughRole(roleArn string, err error) error {
	if err == nil || roleArn == "" {
		return err
	}
	return fmt.Errorf("%w (through role %s)", err, roleArn)
}

// natSources reads each target's nat-gateways sources, once per role and
// tag in the run; a failure is that target's error.
func (d Deps) natSources(ctx context.Context, targets []config.Target, errs []error, timeout time.Duration) []ipset.Set {
	out := make([]ipset.Set, len(targets))
	seen := map[string]ipset.Set{}
	for i, t := range targets {
		for _, s := range t.Sources {
			if s.Kind != config.SourceNATGateways || errs[i] != nil {
				continue
			}
			if d.NAT == nil {
				errs[i] = errors.New("no NAT gateway reader for a nat-gateways source")
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
					errs[i] = throughRole(t.RoleArn, err)
					continue
				}
				seen[key] = set
			}
			out[i] = ipset.Union(out[i], set)
		}
	}
	return out
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
		if _, shared := a.(SharedLimit); err != nil || !shared {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		limit, err := LimitFor(cctx, a, tp.Type, tp.Resource)
		cancel()
		inputs[i].Limit, inputs[i].ReadErr = limit, throughRole(tp.RoleArn, err)
		p.Replan(i, inputs[i], g, now)
	}
}
