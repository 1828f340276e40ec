//go:build race

package reconcile_test

// raceDetector says the test binary was built with -race.
const raceDetector = true
