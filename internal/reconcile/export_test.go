package reconcile

// WithoutAdmission plants a bug for the simulation's planted-bug test: the
// loop hands the plan none of its sources' parts to judge, so a poisoned
// answer reaches the fences as if admission were never there.
func WithoutAdmission(o Options) Options {
	o.unjudged = true
	return o
}
