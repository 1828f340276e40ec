// Package doctor checks an ipsync setup end to end and says, one line per
// check, what works and what to do about what does not: Atlas credentials
// and their access list, every target's owned statement and its headroom,
// the snapshot, the alert topic and trigger queue, and when the schedule
// and the webhook last ran. It writes nothing.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/bookkeeping"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Status of one check.
type Status string

// Statuses, worst last.
const (
	OK   Status = "ok"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Check is one line of the report.
type Check struct {
	Status Status
	Name   string
	Detail string
}

type atlasAPI interface {
	ControlPlane(ctx context.Context) (atlas.ControlPlane, error)
	Project(ctx context.Context, groupID string) (atlas.Project, error)
	EncryptionAtRest(ctx context.Context, groupID string) (atlas.EncryptionAtRest, error)
}

type topicAPI interface {
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, opts ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

type queueAPI interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Deps are what the checks talk to. Atlas is nil when the credentials
// could not be read (AtlasErr says why); Topic and Queue may be nil when
// the config names none.
type Deps struct {
	Config   *config.Config
	Atlas    atlasAPI
	AtlasErr error
	Store    snapshot.Store
	Adapters target.Adapters
	Topic    topicAPI
	Queue    queueAPI
	Now      func() time.Time
	Timeout  time.Duration // per call; default 30s
}

// Run makes every check and returns them in order.
func Run(ctx context.Context, d Deps) []Check {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Timeout <= 0 {
		d.Timeout = 30 * time.Second
	}
	var out []Check
	add := func(s Status, name, format string, args ...any) {
		out = append(out, Check{Status: s, Name: name, Detail: fmt.Sprintf(format, args...)})
	}
	c := d.Config
	add(OK, "config", "%d target(s), %d project(s), snapshot %s", len(c.Targets), len(c.Atlas.Projects), c.Snapshot.URL)

	d.checkAtlas(ctx, add)
	// One read of the snapshot: the targets need what it says ipsync
	// wrote, and its own check reports on it after them.
	cctx, cancel := d.call(ctx)
	stored, _, loadErr := d.Store.Load(cctx)
	cancel()
	memory := stored
	if loadErr != nil {
		memory = nil
	}
	for _, t := range c.Targets {
		d.checkTarget(ctx, t, memory, add)
	}
	snap := d.checkSnapshot(stored, loadErr, add)
	d.checkTopicAndQueue(ctx, add)
	checkSeen(snap, d.Now(), add)
	return out
}

type adder func(s Status, name, format string, args ...any)

func (d Deps) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.Timeout)
}

func (d Deps) checkAtlas(ctx context.Context, add adder) {
	c := d.Config
	if d.Atlas == nil {
		add(Fail, "atlas credentials", "%v", d.AtlasErr)
		return
	}
	cctx, cancel := d.call(ctx)
	cp, err := d.Atlas.ControlPlane(cctx)
	cancel()
	if err != nil {
		add(Fail, "atlas control plane", "%s: %v", c.Atlas.BaseURL, err)
	} else {
		n := 0
		for _, dir := range []atlas.ProviderIPs{cp.Inbound, cp.Outbound} {
			for _, regions := range dir {
				for _, set := range regions {
					n += set.Len()
				}
			}
		}
		add(OK, "atlas control plane", "%s answered: %d prefixes (public endpoint, no credentials used)", c.Atlas.BaseURL, n)
	}
	if len(c.Atlas.Projects) == 0 && len(encryptionProjects(c)) == 0 {
		add(OK, "atlas credentials", "not needed: no project is read (only the public control-plane list)")
	}
	for _, p := range c.Atlas.Projects {
		cctx, cancel := d.call(ctx)
		proj, err := d.Atlas.Project(cctx, p)
		cancel()
		if err != nil {
			add(Fail, "atlas project "+p, "%v", err)
			continue
		}
		add(OK, "atlas project "+p, "credentials and role work: %d cluster(s)", len(proj.Clusters))
	}
	for _, p := range encryptionProjects(c) {
		cctx, cancel := d.call(ctx)
		e, err := d.Atlas.EncryptionAtRest(cctx, p)
		cancel()
		if err == nil && e.AzureVault != nil {
			checkKeyHome(c, p, azureKey(*e.AzureVault), add)
		}
		switch {
		case err != nil:
			add(Fail, "encryption at rest "+p, "%v", err)
		case !e.Valid:
			add(Fail, "encryption at rest "+p, "Atlas reports %s.valid false: it cannot use the key now. Run ipsync plan: a missing address in the key's fence is the usual cause", strings.Join(e.Providers, "/"))
		default:
			add(OK, "encryption at rest "+p, "%s.valid true: Atlas can use the key", strings.Join(e.Providers, "/"))
		}
	}
}

func encryptionProjects(c *config.Config) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range c.Targets {
		for _, p := range t.EncryptionAtRestProjects {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// checkTarget reads the live policy: the owned statement, its IP
// condition, and the room left under the service's size limit.
func (d Deps) checkTarget(ctx context.Context, t config.Target, memory *snapshot.Snapshot, add adder) {
	name := "target " + t.Name
	kind, err := d.Config.KindOf(t)
	if err != nil {
		add(Fail, name, "%v", err)
		return
	}
	key := target.AdapterKey{Type: t.Type, As: t.RoleArn}
	a, err := d.Adapters.Get(key)
	if err != nil {
		add(Fail, name, "%v", err)
		return
	}
	ref := target.Ref{Resource: t.Resource, Sid: t.Sid, Options: t.Options()}
	if kind.Rules().RecordedOwnership {
		ref.Written = bookkeeping.Written(memory, t)
	}
	fence, err := d.Adapters.Read(ctx, key, ref, d.Timeout) // the loop's read
	var notOwned *target.NotOwnedError
	switch {
	case errors.As(err, &notOwned) && kind.Example(t.Sid, nil) != "":
		add(Fail, name, "%s %s: %v. Add this statement (put the addresses ipsync plan shows in it):\n%s", t.Type, t.Resource, err, kind.Example(t.Sid, []string{"192.0.2.0/32"}))
		return
	case errors.As(err, &notOwned):
		add(Fail, name, "%s %s: %v", t.Type, t.Resource, err)
		return
	case err != nil:
		add(Fail, name, "%v", err)
		return
	}
	room := fence.Capacity()
	if shared, ok := a.(target.SharedRoom); ok {
		cctx, cancel := d.call(ctx)
		room, err = shared.Room(cctx, ref)
		cancel()
		if err != nil {
			add(Fail, name, "%v", err)
			return
		}
	}
	size := fence.Used()
	status, note := OK, ""
	if used := 100 * size / max(room.Max, 1); used >= 80 {
		status, note = Warn, " — over 80 %: a few more addresses and ipsync must refuse; "+fullAdvice(room)
	}
	via := ""
	if t.RoleArn != "" {
		via = " (as " + t.RoleArn + ")"
	}
	add(status, name, "%s %s%s: %s; %d of %d %s used, %d left%s",
		t.Type, t.Resource, via, fence.Describe(), size, room.Max, room.Unit, room.Max-size, note)
	if w, ok := fence.(target.Warner); ok {
		for _, warning := range w.Warnings() {
			add(Warn, name+" "+warning.Topic, "%s", warning.Detail)
		}
	}
	if pl, ok := a.(perimeterLister); ok {
		cctx, cancel := d.call(ctx)
		perimeters, err := pl.Perimeters(cctx, ref)
		cancel()
		switch {
		case err != nil:
			add(Warn, name+" perimeters", "could not list the service perimeters: %v", err)
		case len(perimeters) == 0:
			add(Warn, name+" perimeters", "no service perimeter of the policy lists this access level: it protects nothing until one does")
		default:
			add(OK, name+" perimeters", "listed by %s", strings.Join(perimeters, ", "))
		}
	}
	if tg, ok := a.(tagged); ok {
		cctx, cancel := d.call(ctx)
		tags, err := tg.Tags(cctx, ref)
		cancel()
		switch by := declaredBy(tags); {
		case err != nil:
			add(Warn, name+" tags", "could not read the resource's tags to check for CloudFormation or Terraform: %v", err)
		case by != "":
			add(Warn, name+" iac", "%s", iacAdvice(by))
		}
	}
}

// fullAdvice says what makes room in a fence that is nearly full.
func fullAdvice(room target.Capacity) string {
	switch room.Unit {
	case target.Entries:
		return "remove the entries nobody needs"
	case target.RuleCount:
		return "raise the group's rules quota (and maxRules), or allow a prefix list in one rule instead"
	}
	return "merge statements or split the key's other statements out"
}

func (d Deps) checkSnapshot(snap *snapshot.Snapshot, err error, add adder) *snapshot.Snapshot {
	switch {
	case errors.Is(err, snapshot.ErrNotFound):
		add(Warn, "snapshot", "%s: none yet; the first ipsync apply or scheduled run writes it", d.Store.URL())
		return nil
	case err != nil:
		add(Fail, "snapshot", "%s: %v", d.Store.URL(), err)
		return nil
	}
	add(OK, "snapshot", "%s: Atlas's answer %s, fetched %s", d.Store.URL(), snap.Hash, snap.FetchedAt.Format(time.RFC3339))
	checkBlocked(snap, add)
	return snap
}

// checkBlocked warns of each blocked target, and of a rollback a run
// decided but stopped before it was known to be written.
func checkBlocked(snap *snapshot.Snapshot, add adder) {
	for _, name := range slices.Sorted(maps.Keys(snap.Blocked)) {
		b := snap.Blocked[name]
		pending := ""
		if b.Pending {
			pending = fmt.Sprintf(". The run that rolled it back stopped before the restore was known to be written: the next run restores the owned statement to %s", b.Restore)
		}
		add(Warn, "blocked "+name, "since %s: %s%s. When the cause is fixed: ipsync unblock %s", b.Since.Format(time.RFC3339), b.Reason, pending, name)
	}
}

func (d Deps) checkTopicAndQueue(ctx context.Context, add adder) {
	c := d.Config
	if c.Notify.TopicArn == "" || d.Topic == nil {
		add(Warn, "alert topic", "notify.topicArn is not set: alerts are only logged")
	} else {
		cctx, cancel := d.call(ctx)
		_, err := d.Topic.GetTopicAttributes(cctx, &sns.GetTopicAttributesInput{TopicArn: &c.Notify.TopicArn})
		cancel()
		if err != nil {
			add(Fail, "alert topic", "%s: %v", c.Notify.TopicArn, err)
		} else {
			add(OK, "alert topic", "%s reachable", c.Notify.TopicArn)
		}
	}
	if c.Trigger.QueueURL == "" || d.Queue == nil {
		return // only the webhook needs it
	}
	cctx, cancel := d.call(ctx)
	_, err := d.Queue.GetQueueAttributes(cctx, &sqs.GetQueueAttributesInput{QueueUrl: &c.Trigger.QueueURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameFifoQueue}})
	cancel()
	if err != nil {
		add(Fail, "trigger queue", "%s: %v", c.Trigger.QueueURL, err)
		return
	}
	add(OK, "trigger queue", "%s reachable", c.Trigger.QueueURL)
}

// checkSeen reads when the schedule and the webhook last ran. A run
// refreshes its stamp at least every snapshot.SeenHeartbeat.
func checkSeen(snap *snapshot.Snapshot, now time.Time, add adder) {
	if snap == nil {
		add(Warn, "schedule", "no snapshot yet, so no scheduled run recorded")
		return
	}
	stale := snapshot.SeenHeartbeat + time.Hour
	if last, ok := snap.Seen[string(snapshot.TriggerSchedule)]; !ok {
		add(Warn, "schedule", "no scheduled run recorded yet: is the EventBridge schedule deployed and enabled?")
	} else if age := now.Sub(last); age > stale {
		add(Warn, "schedule", "last scheduled run recorded %s ago (%s); runs refresh it at least every %s: is the schedule enabled, is the function failing?", age.Round(time.Minute), last.Format(time.RFC3339), snapshot.SeenHeartbeat)
	} else {
		add(OK, "schedule", "last scheduled run recorded %s ago", age.Round(time.Minute))
	}
	if last, ok := snap.Seen[string(snapshot.TriggerWebhook)]; ok {
		add(OK, "webhook", "last webhook-triggered run recorded %s ago (%s)", now.Sub(last).Round(time.Minute), last.Format(time.RFC3339))
	} else {
		add(OK, "webhook", "no webhook-triggered run recorded yet (expected until Atlas sends an alert)")
	}
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}
