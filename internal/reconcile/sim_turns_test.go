package reconcile_test

import (
	"context"
	mathrand "math/rand/v2"
	"slices"
	"sync"
)

// A seed replays its history exactly only if nothing in it is left to the
// Go scheduler. Within a run, the loop's per-target reads and writes go
// through Deps.Each, which the simulation runs one at a time in an order
// drawn from the step's seed (inOrder). Racing runs are goroutines; turns
// lets only one of them go on at a time, and at each call into the world
// (Atlas, the store, a fence, a pause) draws which: the interleaving, too,
// is the seed's.

// turns hands the turn between racing runs.
type turns struct {
	mu     sync.Mutex
	cond   sync.Cond
	rng    *mathrand.Rand
	live   int   // runs not yet returned
	parked []int // runs waiting at a call into the world
	turn   int   // the run that may go on; -1 while none is chosen
}

func newTurns(runs int, seed uint64) *turns {
	t := &turns{rng: mathrand.New(mathrand.NewPCG(seed, ^seed)), live: runs, turn: -1}
	t.cond.L = &t.mu
	return t
}

// runKey is the context key of a racing run's number.
type runKey struct{}

// yield is called at each call into the world: the calling run gives up
// the turn and waits until it is drawn again. Outside a race step (no
// turns, or a context without a run number) it returns at once.
func (t *turns) yield(ctx context.Context) {
	id, ok := ctx.Value(runKey{}).(int)
	if t == nil || !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.turn == id {
		t.turn = -1
	}
	t.parked = append(t.parked, id)
	t.choose()
	for t.turn != id {
		t.cond.Wait()
	}
}

// done is called when run id has returned.
func (t *turns) done(id int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.turn == id {
		t.turn = -1
	}
	t.live--
	t.choose()
}

// choose draws the next run once every live run waits at a call: only
// then is the set to draw from the seed's and not the Go scheduler's.
func (t *turns) choose() {
	if t.turn != -1 || len(t.parked) == 0 || len(t.parked) < t.live {
		return
	}
	slices.Sort(t.parked)
	i := t.rng.IntN(len(t.parked))
	t.turn = t.parked[i]
	t.parked = slices.Delete(t.parked, i, i+1)
	t.cond.Broadcast()
}

// inOrder is a Deps.Each that runs the calls one at a time, in an order
// drawn from rng.
func inOrder(rng *mathrand.Rand) func(n int, do func(int)) {
	return func(n int, do func(int)) {
		for _, i := range rng.Perm(n) {
			do(i)
		}
	}
}
