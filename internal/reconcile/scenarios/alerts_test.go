package scenarios_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// Alerts are sent once per transition: these tests hold the outbox to that
// where SNS, the snapshot or a racing run fails it (each failed before the
// outbox was claimed with the lease).

var snsDown = testenv.AWSFault{Service: "sns", Op: "Publish", Status: 500, Code: "InternalError", Times: 1000}

// faultOptions: CallTimeout above the SDK's own retry backoff.
var faultOptions = reconcile.Options{CallTimeout: 2500 * time.Millisecond}

// A refused (or failed) run whose alert SNS refused leaves it in the
// outbox; the next run sends it, and the runs after that, still refused,
// send nothing.
func TestTroublePagesOnceAcrossAnSNSFailure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status plan.Status
		event  string
		break_ func(s *reconciletest.Stack)
	}{
		{"refused", plan.Refused, "refused", func(s *reconciletest.Stack) {
			s.Sim.SetControlPlane(reconciletest.ControlPlane())
			s.Sim.SetProject(reconciletest.Project)
		}},
		{"failed", plan.Error, "failed", func(s *reconciletest.Stack) { s.Sim.RemoveProject(reconciletest.Project) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, proxy := reconciletest.FaultStack(t, reconciletest.Kinds[0], "")
			if r := s.Run(t, faultOptions); r.Err != nil {
				t.Fatal(r.Err)
			}
			s.Alerts(t)
			tc.break_(s)
			proxy.Inject(snsDown)
			if r := s.Run(t, faultOptions); r.Status != tc.status || r.Err == nil {
				t.Fatalf("run with SNS down: %s %v", r.Status, r.Err)
			}
			proxy.Clear()
			if got := reconciletest.Events(s.Alerts(t)); got != "" {
				t.Fatalf("alerts %q reached on-call with SNS down", got)
			}
			for i := range 3 {
				s.Calls.Reset()
				if r := s.Run(t, faultOptions); r.Status != tc.status {
					t.Fatalf("run %d: %s %v", i, r.Status, r.Err)
				}
				want := 0
				if i == 0 {
					want = 1 // the alert left in the outbox
				}
				if n := s.Calls.Get("Publish"); n != want {
					t.Fatalf("run %d after SNS recovered published %d alerts, want %d", i, n, want)
				}
			}
			if got := reconciletest.Events(s.Alerts(t)); got != tc.event {
				t.Fatalf("alerts %q, want one %s", got, tc.event)
			}
		})
	}
}

// Two runs at once: the first stops between recording its alert and
// publishing it while the second runs from start to end. The second must
// leave the first's outbox to it.
func TestRacingRunsPublishOnce(t *testing.T) {
	for _, tc := range []struct {
		name, event string
		change      func(s *reconciletest.Stack)
	}{
		{"refused", "refused", func(s *reconciletest.Stack) {
			s.Sim.SetControlPlane(reconciletest.ControlPlane())
			s.Sim.SetProject(reconciletest.Project)
		}},
		{"applied", "applied", func(s *reconciletest.Stack) {
			s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.3.7"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := reconciletest.NewStack(t, reconciletest.Kinds[0], "")
			if r := s.Run(t, reconcile.Options{}); r.Err != nil {
				t.Fatal(r.Err)
			}
			s.Alerts(t)
			tc.change(s)
			s.Calls.Reset()
			paused, resume := make(chan struct{}), make(chan struct{})
			first := s.Deps(t)
			var once sync.Once
			first.Checkpoint = func(step string) {
				if step == "before-notify" {
					once.Do(func() { close(paused); <-resume })
				}
			}
			done := make(chan reconcile.Report)
			go func() {
				done <- reconcile.Run(t.Context(), s.Cfg, first, reconcile.Options{VerifyWait: 10 * time.Millisecond})
			}()
			select {
			case <-paused:
			case r := <-done:
				t.Fatalf("the first run ended without publishing: %s %v", r.Status, r.Err)
			}
			second := s.Run(t, reconcile.Options{})
			close(resume)
			r := <-done
			if r.Err != nil || second.Err != nil {
				t.Fatalf("runs: %s %v; %s %v", r.Status, r.Err, second.Status, second.Err)
			}
			// The drain drops identical deliveries: count what was published.
			if n := s.Calls.Get("Publish"); n != 1 {
				t.Fatalf("the two runs published %d alerts, want 1", n)
			}
			if got := reconciletest.Events(s.Alerts(t)); got != tc.event {
				t.Fatalf("alerts %q, want one %s", got, tc.event)
			}
			s.Calls.Reset()
			if r := s.Run(t, reconcile.Options{}); r.Err != nil || s.Calls.Get("Publish") != 0 {
				t.Fatalf("the run after: %v, %d alerts published", r.Err, s.Calls.Get("Publish"))
			}
		})
	}
}

// addressAddedAfterAnApply: a stack behind a fault proxy, applied once and
// drained of alerts; then Atlas adds an address, so the next run writes.
func addressAddedAfterAnApply(t *testing.T) (*reconciletest.Stack, *testenv.FaultProxy) {
	t.Helper()
	s, proxy := reconciletest.FaultStack(t, reconciletest.Kinds[0], "")
	if r := s.Run(t, faultOptions); r.Err != nil {
		t.Fatal(r.Err)
	}
	s.Alerts(t)
	s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.3.7"))
	return s, proxy
}

// SNS refusing the alert after a verified write: the run is an error (exit
// 1) with the target applied, and the next run sends the alert once.
func TestAlertNotSentAfterApplyIsAnError(t *testing.T) {
	s, proxy := addressAddedAfterAnApply(t)
	proxy.Inject(snsDown)
	r := s.Run(t, faultOptions)
	if r.Status != plan.Error || r.Err == nil || !strings.Contains(r.Err.Error(), "send alert applied") || r.Targets[0].Status != plan.Applied {
		t.Fatalf("run: %s %v, target %s", r.Status, r.Err, r.Targets[0].Status)
	}
	proxy.Clear()
	if r := s.Run(t, faultOptions); r.Status != plan.InSync || r.Err != nil {
		t.Fatalf("next run: %s %v", r.Status, r.Err)
	}
	if got := reconciletest.Events(s.Alerts(t)); got != "applied" {
		t.Fatalf("alerts %q, want one applied", got)
	}
}

// The record fails after the policy was written: nothing is announced by
// that run (its outbox was never stored), and the next run, finding the
// change written but not recorded, announces it once.
func TestRecordFailureAfterAWriteAnnouncesOnce(t *testing.T) {
	s, proxy := addressAddedAfterAnApply(t)
	d := s.Deps(t)
	d.Checkpoint = func(step string) {
		if step == "wrote:target" {
			proxy.Inject(testenv.AWSFault{Service: "s3", Op: "PutObject", Status: 500, Code: "InternalError", Times: 1000})
		}
	}
	o := faultOptions
	o.VerifyWait = 10 * time.Millisecond
	s.Calls.Reset()
	r := reconcile.Run(t.Context(), s.Cfg, d, o)
	if r.Status != plan.Error || r.Err == nil || !strings.Contains(r.Err.Error(), "record snapshot") {
		t.Fatalf("run: %s %v", r.Status, r.Err)
	}
	if n := s.Calls.Get("Publish"); n != 0 {
		t.Fatalf("a run that recorded nothing published %d alerts", n)
	}
	proxy.Clear()
	s.Advance(3 * time.Minute) // past the failed run's lease
	if r := s.Run(t, faultOptions); r.Err != nil {
		t.Fatalf("next run: %s %v", r.Status, r.Err)
	}
	if got := reconciletest.Events(s.Alerts(t)); got != "applied" {
		t.Fatalf("alerts %q, want one applied", got)
	}
}

// A target may be called "run": its failures are its own, not the run's
// (the alert memory once kept both under one key, so each later run sent
// "ipsync recovered: runs complete again").
func TestTargetNamedRunKeepsItsOwnAlertState(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], `
  - name: run
    type: kms-key-policy
    resource: 00000000-0000-4000-8000-000000000000
    sid: AtlasIPAllowList
`)
	r := s.Run(t, reconcile.Options{})
	if r.Status != plan.Error || r.Targets[1].Status != plan.Error {
		t.Fatalf("first run: %s %+v", r.Status, r.Targets)
	}
	if got := reconciletest.Events(s.Alerts(t)); got != "failed,applied" && got != "applied,failed" {
		t.Fatalf("first run's alerts %q, want the target run's failure and the other's change", got)
	}
	for i := range 2 {
		s.Calls.Reset()
		if r := s.Run(t, reconcile.Options{}); r.Targets[1].Status != plan.Error {
			t.Fatalf("run %d: %s %+v", i, r.Status, r.Targets)
		}
		if n := s.Calls.Get("Publish"); n != 0 {
			t.Fatalf("run %d published %d alerts (%s) for a failure already announced", i, n, reconciletest.Events(s.Alerts(t)))
		}
	}
}
