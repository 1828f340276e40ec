package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile/reconciletest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

const verifyConfig = `    encryptionAtRestProjects: ["` + reconciletest.Project + `"]
verify:
  window: 0s
  interval: 1s
`

// Atlas loses encryption at rest right after the write: the previous policy
// is restored, on-call hears both diffs, and the target takes no change until
// it is unblocked.
func TestRollbackWhenAtlasLosesTheKey(t *testing.T) {
	reconciletest.ForKindsWhere(t, func(k reconciletest.Kind) bool {
		return k.Name == reconciletest.Kinds[0].Name || k.Name == reconciletest.PrefixListKind.Name || k.Name == reconciletest.SecurityGroupKind.Name || k.Name == reconciletest.AccessLevelKind.Name || k.Name == reconciletest.VaultKind.Name
	}, rollbackWhenAtlasLosesTheKey)
}

func rollbackWhenAtlasLosesTheKey(t *testing.T, k reconciletest.Kind) {
	s := reconciletest.NewStack(t, k, verifyConfig)
	before := s.K.Live(t, s)
	d := s.Deps(t)
	d.Checkpoint = func(step string) {
		if step == "wrote:target" {
			s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
		}
	}
	r := reconcile.Run(context.Background(), s.Cfg, d, reconcile.Options{VerifyWait: 10e6})
	tp := r.Targets[0]
	if r.Status != plan.Error || tp.Status != plan.RolledBack || !strings.Contains(tp.Reason, "previous policy was restored") || strings.Join(tp.InvalidAfter, ",") != reconciletest.Project {
		t.Fatalf("report %s, target %+v", r.Status, tp)
	}
	if got := s.K.Live(t, s); got != before {
		t.Fatalf("policy after the rollback holds %s, want %s", got, before)
	}
	if n := s.K.Writes(s); n != 2 {
		t.Fatalf("%d policy writes, want 2 (the change and its rollback)", n)
	}
	got := s.Alerts(t)
	if reconciletest.Events(got) != "rolled-back" {
		t.Fatalf("alerts %s", reconciletest.Events(got))
	}
	body := got[0].Message
	change, rollback, _ := strings.Cut(body, "The rollback (undoes it):")
	// A first run that owns only what it writes removed nothing.
	removed := k.Recorded || strings.Contains(change, "- 192.0.2.0/32") && strings.Contains(rollback, "+ 192.0.2.0/32")
	if !strings.Contains(change, "+ 198.51.100.10/32") || !removed || !strings.Contains(rollback, "- 198.51.100.10/32") {
		t.Errorf("the alert lacks a diff:\n%s", body)
	}
	for _, w := range []string{"The change that was made:", "ipsync unblock target", reconciletest.Project} {
		if !strings.Contains(body, w) {
			t.Errorf("alert lacks %q:\n%s", w, body)
		}
	}
	snap, _, err := s.Store().Load(context.Background())
	if err != nil || snap.Blocked["target"].Reason == "" {
		t.Fatalf("no block recorded: %+v %v", snap, err)
	}

	// Atlas is fine again, but the target stays blocked: nothing is written
	// and on-call is not paged again.
	s.Sim.SetEncryptionAtRestValid(reconciletest.Project, true)
	s.Calls.Reset()
	r = s.Run(t, reconcile.Options{})
	if r.Status != plan.Error || r.Targets[0].Status != plan.Blocked || !strings.Contains(r.Targets[0].Reason, "ipsync unblock target") {
		t.Fatalf("blocked run: %s %+v", r.Status, r.Targets[0])
	}
	if n := s.K.Writes(s); n != 0 {
		t.Fatalf("a blocked target was written %d times", n)
	}
	if a := s.Alerts(t); len(a) != 0 {
		t.Fatalf("paged again: %s", reconciletest.Events(a))
	}

	// A human clears it; the next run applies and says it recovered.
	b, err := snapshot.Unblock(context.Background(), s.Store(), "target")
	if err != nil || len(b.Projects) != 1 {
		t.Fatalf("unblock: %+v %v", b, err)
	}
	var nb *snapshot.NotBlockedError
	if _, err := snapshot.Unblock(context.Background(), s.Store(), "target"); !errors.As(err, &nb) {
		t.Fatalf("second unblock: %v", err)
	}
	s.Calls.Reset()
	r = s.Run(t, reconcile.Options{})
	if r.Status != plan.Applied || r.Targets[0].Status != plan.Applied {
		t.Fatalf("after unblock: %s %+v", r.Status, r.Targets[0])
	}
	if e := reconciletest.Events(s.Alerts(t)); e != "applied,recovered" && e != "recovered,applied" {
		t.Fatalf("alerts after unblock: %s", e)
	}
	if n := s.Calls.Get("Publish"); n != 2 {
		t.Fatalf("%d alerts published after unblock, want 2", n)
	}
}

// Someone adds a statement while the change is watched; Atlas then
// loses the key. The rollback puts back only the owned statement's set: the
// other edit stays (DESIGN, Ownership: everything else comes out exactly as
// it went in).
func TestRollbackKeepsOtherEditsToThePolicy(t *testing.T) {
	k := reconciletest.Kinds[0] // only a KMS key policy guards encryption at rest
	s := reconciletest.NewStack(t, k, verifyConfig)
	before := reconciletest.OwnedValues(t, k.GetLive(t, s), k.Sid)
	d := s.Deps(t)
	d.Checkpoint = func(step string) {
		if step != "wrote:target" {
			return
		}
		k.SetLive(t, s, withStatement(t, k.GetLive(t, s), map[string]any{
			"Sid": "AddedDuringTheWindow", "Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}))
		s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
	}
	r := reconcile.Run(context.Background(), s.Cfg, d, reconcile.Options{VerifyWait: 10e6})
	if tp := r.Targets[0]; tp.Status != plan.RolledBack {
		t.Fatalf("target %+v", tp)
	}
	live := k.GetLive(t, s)
	if got, want := strings.Join(reconciletest.OwnedValues(t, live, k.Sid), " "), strings.Join(before, " "); got != want {
		t.Fatalf("owned statement after the rollback holds %s, want %s", got, want)
	}
	if !strings.Contains(live, `"AddedDuringTheWindow"`) {
		t.Fatalf("the rollback dropped a statement added after the change:\n%s", live)
	}
}

// withStatement is doc with one more statement, as a person editing the
// policy by hand might add it.
func withStatement(t *testing.T, doc string, st map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("policy: %v", err)
	}
	m["Statement"] = append(m["Statement"].([]any), st)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Atlas already cannot use the key: on-call hears the likely cause (what the
// live policy lacks), the change goes ahead, and it is not rolled back,
// since it did not cause the loss.
func TestInvalidBeforeTheChangeIsReportedNotRolledBack(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], verifyConfig)
	s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
	r := s.Run(t, reconcile.Options{})
	tp := r.Targets[0]
	if tp.Status != plan.Applied || strings.Join(tp.InvalidBefore, ",") != reconciletest.Project || len(tp.InvalidAfter) != 0 {
		t.Fatalf("target %+v", tp)
	}
	if n := s.Sim.Calls(atlastest.EncryptionAtRest); n != 1 {
		t.Fatalf("%d encryption-at-rest calls, want 1 (before the change only)", n)
	}
	got := s.Alerts(t)
	var invalid string
	for _, a := range got {
		if a.Event() == "encryption-invalid" {
			invalid = a.Message
		}
	}
	if !strings.Contains(invalid, "the live policy lacks these addresses Atlas lists:\n") || !strings.Contains(invalid, "+ 198.51.100.10/32") || strings.Contains(invalid, "192.0.2.0") {
		t.Fatalf("alerts %s; encryption-invalid body:\n%s", reconciletest.Events(got), invalid)
	}
}

// A valid key: one question before and after the change; none on a run with
// nothing to change (the no-op minimum holds).
func TestVerifiedChangeAndNoOpAskNothingMore(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], verifyConfig)
	r := s.Run(t, reconcile.Options{})
	if r.Targets[0].Status != plan.Applied {
		t.Fatalf("target %+v", r.Targets[0])
	}
	if n := s.Sim.Calls(atlastest.EncryptionAtRest); n != 2 {
		t.Fatalf("%d encryption-at-rest calls, want 2 (before and after)", n)
	}
	r = s.Run(t, reconcile.Options{})
	if r.Status != plan.InSync || s.Sim.Calls(atlastest.EncryptionAtRest) != 2 {
		t.Fatalf("no-op run: %s, %d calls", r.Status, s.Sim.Calls(atlastest.EncryptionAtRest))
	}
}

// The window: Atlas turns invalid on the third question, two intervals after
// the change, and the change is still rolled back.
func TestRollbackWithinTheWindow(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], strings.Replace(verifyConfig, "window: 0s", "window: 3s", 1))
	d := s.Deps(t)
	polls := 0
	d.Checkpoint = func(step string) {
		if step == "verify:target" {
			polls++
			if polls == 3 {
				s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
			}
		}
	}
	r := reconcile.Run(context.Background(), s.Cfg, d, reconcile.Options{VerifyWait: 10e6})
	if r.Targets[0].Status != plan.RolledBack || polls != 3 {
		t.Fatalf("target %+v after %d polls", r.Targets[0], polls)
	}
}

// The snapshot remembers when each trigger last ran: stamped when the run
// writes anyway, and otherwise at most once per heartbeat, so a run with
// nothing to do writes nothing in between.
func TestSeenHeartbeat(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], "")
	if r := s.Run(t, reconcile.Options{Trigger: reconcile.TriggerSchedule}); r.Targets[0].Status != plan.Applied {
		t.Fatalf("first run %+v", r.Targets[0])
	}
	snap, _, err := s.Store().Load(context.Background())
	if err != nil || !snap.Seen["schedule"].Equal(s.Now) {
		t.Fatalf("seen %v, want %v (%v)", snap.Seen, s.Now, err)
	}
	s.Advance(time.Hour)
	s.Calls.Reset()
	s.Run(t, reconcile.Options{Trigger: reconcile.TriggerSchedule})
	if n := s.Calls.Get("PutObject"); n != 0 {
		t.Fatalf("a no-op run within the heartbeat wrote the snapshot %d times", n)
	}
	s.Advance(snapshot.SeenHeartbeat)
	s.Run(t, reconcile.Options{Trigger: reconcile.TriggerWebhook})
	s.Run(t, reconcile.Options{Trigger: reconcile.TriggerSchedule})
	if n := s.Calls.Get("PutObject"); n != 2 {
		t.Fatalf("%d snapshot writes after the heartbeat, want 2 (one per trigger)", n)
	}
	snap, _, _ = s.Store().Load(context.Background())
	if !snap.Seen["schedule"].Equal(s.Now) || !snap.Seen["webhook"].Equal(s.Now) || snap.Targets["target"].Written.Len() == 0 {
		t.Fatalf("seen %v, record %+v", snap.Seen, snap.Targets["target"])
	}
}

// A run that stops while watching (after its write, before recording) leaves
// a change nobody verified: the next run watches it as well, and rolls it
// back to what the record says the policy held.
func TestCrashWhileWatchingIsVerifiedNextRun(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], verifyConfig)
	before := s.K.Live(t, s)
	if r := s.Run(t, reconcile.Options{}); r.Targets[0].Status != plan.Applied {
		t.Fatalf("first run %+v", r.Targets[0])
	}
	s.Alerts(t)
	applied := s.K.Live(t, s)
	if applied == before {
		t.Fatal("the first run changed nothing")
	}
	s.Sim.SetControlPlane(reconciletest.ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42", "44.210.7.7"))
	ctx, crash := context.WithCancel(context.Background())
	d := s.Deps(t)
	d.Checkpoint = func(step string) {
		if step == "verify:target" {
			s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false) // the change cost Atlas the key
			crash()
		}
	}
	reconcile.Run(ctx, s.Cfg, d, reconcile.Options{VerifyWait: 10 * time.Millisecond})
	if live := s.K.Live(t, s); !strings.Contains(live, "44.210.7.7") {
		t.Fatalf("the crashed run did not write: %s", live)
	}
	s.Advance(3 * time.Minute) // the dead run's lease has expired
	r := s.Run(t, reconcile.Options{})
	if tp := r.Targets[0]; tp.Status != plan.RolledBack || !tp.Unrecorded {
		t.Fatalf("next run: %s %+v", r.Status, tp)
	}
	if live := s.K.Live(t, s); live != applied {
		t.Fatalf("after the rollback the policy holds %s, want %s", live, applied)
	}
	if e := reconciletest.Events(s.Alerts(t)); e != "rolled-back" {
		t.Fatalf("alerts %s", e)
	}
	snap, _, err := s.Store().Load(context.Background())
	if err != nil || snap.Blocked["target"].Reason == "" {
		t.Fatalf("no block recorded: %v", err)
	}
}

// A run that stops right after a rollback (another target may keep it
// watching for the rest of the window) has already recorded the block: the
// next run does not make the rolled-back change again, and on-call hears
// that the target is blocked.
func TestCrashAfterRollbackKeepsTheBlock(t *testing.T) {
	crashDuringRollback(t, "rolled-back:target", 0, "the previous policy was restored")
}

// A run that stops after recording its rollback but before the restoring
// write leaves the change in place: the next run restores the policy rather
// than make the change again, and the target stays blocked.
func TestCrashBeforeTheRestoringWrite(t *testing.T) {
	crashDuringRollback(t, "rolling-back:target", 1, "this run restored it")
}

// A run that stops right after its restoring write: the next run writes
// nothing, and the target stays blocked.
func TestCrashAfterTheRestoringWrite(t *testing.T) {
	crashDuringRollback(t, "restored:target", 0, "the policy holds what it held before that change")
}

// crashDuringRollback stops a run at step of its rollback; then
// nextRunFinishesTheRollback.
func crashDuringRollback(t *testing.T, step string, restores int, reason string) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], verifyConfig)
	before := s.K.Live(t, s)
	ctx, crash := context.WithCancel(context.Background())
	d := s.Deps(t)
	crashed := false
	d.Checkpoint = func(got string) {
		switch got {
		case "wrote:target":
			s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
		case step:
			crashed = true
			crash()
		}
	}
	reconcile.Run(ctx, s.Cfg, d, reconcile.Options{VerifyWait: 10 * time.Millisecond})
	if !crashed {
		t.Fatalf("the run never reached %s", step)
	}
	s.Advance(3 * time.Minute) // the dead run's lease has expired
	s.Alerts(t)
	nextRunFinishesTheRollback(t, s, before, restores, reason)
}

// nextRunFinishesTheRollback: after a run left its rollback pending, the
// next run makes restores policy writes, leaves the owned statement holding
// before, and says reason in its blocked alert; the run after it is quiet.
func nextRunFinishesTheRollback(t *testing.T, s *reconciletest.Stack, before string, restores int, reason string) {
	t.Helper()
	// Atlas can use the key again by now; the rollback Atlas's answer
	// decided stands all the same.
	s.Sim.SetEncryptionAtRestValid(reconciletest.Project, true)
	s.Calls.Reset()
	r := s.Run(t, reconcile.Options{})
	if tp := r.Targets[0]; tp.Status != plan.Blocked || !strings.Contains(tp.Reason, "ipsync unblock target") {
		t.Fatalf("next run: target %s: %s", tp.Status, tp.Reason)
	}
	if n := s.K.Writes(s); n != restores {
		t.Fatalf("next run: %d policy writes, want %d", n, restores)
	}
	if live := s.K.Live(t, s); live != before {
		t.Fatalf("after the next run the policy holds %s, want %s", live, before)
	}
	if a := s.Alerts(t); reconciletest.Events(a) != "blocked" || !strings.Contains(a[0].Message, reason) {
		t.Fatalf("next run's alerts %q, want blocked saying %q:\n%v", reconciletest.Events(a), reason, a)
	}
	snap, _, err := s.Store().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b := snap.Blocked["target"]; b.Pending || !strings.Contains(b.Reason, "previous policy was restored") {
		t.Fatalf("block after the next run: %+v", b)
	}

	// The run after that writes nothing and pages nobody.
	s.Calls.Reset()
	r = s.Run(t, reconcile.Options{})
	if tp := r.Targets[0]; tp.Status != plan.Blocked {
		t.Fatalf("third run: target %s: %s", tp.Status, tp.Reason)
	}
	if n := s.K.Writes(s); n != 0 {
		t.Fatalf("third run: %d policy writes", n)
	}
	if a := s.Alerts(t); len(a) != 0 {
		t.Fatalf("third run paged: %s", reconciletest.Events(a))
	}
}

// The restoring write fails: the run says so, the block stays pending, and
// the next run restores the policy.
func TestFailedRollbackIsFinishedByTheNextRun(t *testing.T) {
	s, proxy := reconciletest.FaultStack(t, reconciletest.Kinds[0], verifyConfig)
	before := s.K.Live(t, s)
	d := s.Deps(t)
	d.Checkpoint = func(step string) {
		switch step {
		case "wrote:target":
			s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
		case "rolling-back:target":
			proxy.Inject(testenv.AWSFault{Service: "kms", Op: "PutKeyPolicy", Status: 400, Code: "AccessDeniedException", Times: 100})
		}
	}
	r := reconcile.Run(context.Background(), s.Cfg, d, reconcile.Options{VerifyWait: 10 * time.Millisecond})
	tp := r.Targets[0]
	if r.Status != plan.Error || tp.Status != plan.Error || !strings.Contains(tp.Reason, "restoring the previous policy FAILED") || !strings.Contains(tp.Reason, "the next run restores it again") {
		t.Fatalf("run %s, target %s: %s", r.Status, tp.Status, tp.Reason)
	}
	if live := s.K.Live(t, s); live == before {
		t.Fatalf("the restoring write was refused, yet the policy holds %s again", live)
	}
	snap, _, err := s.Store().Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b := snap.Blocked["target"]; !b.Pending || strings.Join(b.Restore.Strings(), " ") != before {
		t.Fatalf("block after the failed rollback: %+v", b)
	}
	if a := s.Alerts(t); len(a) == 0 || !strings.Contains(a[0].Message, "FAILED") {
		t.Fatalf("alerts after the failed rollback: %q %v", reconciletest.Events(a), a)
	}
	proxy.Clear()
	nextRunFinishesTheRollback(t, s, before, 1, "this run restored it")
}

// failBlockSave refuses the first save that carries a block: the one made
// right after a rollback.
type failBlockSave struct {
	snapshot.Store
	refused int
}

func (f *failBlockSave) Save(ctx context.Context, s *snapshot.Snapshot, v snapshot.Version) (snapshot.Version, error) {
	if len(s.Blocked) > 0 && f.refused == 0 {
		f.refused++
		return "", errors.New("injected: S3 is unavailable")
	}
	return f.Store.Save(ctx, s, v)
}

// When the block cannot be recorded right after the rollback, the run's
// record at its end still carries it.
func TestBlockRecordedAtTheEndWhenTheEarlyWriteFails(t *testing.T) {
	s := reconciletest.NewStack(t, reconciletest.Kinds[0], verifyConfig)
	d := s.Deps(t)
	store := &failBlockSave{Store: d.Store}
	d.Store = store
	d.Checkpoint = func(step string) {
		if step == "wrote:target" {
			s.Sim.SetEncryptionAtRestValid(reconciletest.Project, false)
		}
	}
	r := reconcile.Run(context.Background(), s.Cfg, d, reconcile.Options{VerifyWait: 10 * time.Millisecond})
	if tp := r.Targets[0]; tp.Status != plan.RolledBack || store.refused != 1 {
		t.Fatalf("target %s (%s), %d early writes refused", tp.Status, tp.Reason, store.refused)
	}
	snap, _, err := s.Store().Load(context.Background())
	if err != nil || snap.Blocked["target"].Reason == "" || snap.Lease != nil {
		t.Fatalf("no block in the run's record: %+v %v", snap, err)
	}
}
