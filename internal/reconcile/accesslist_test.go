package reconcile_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/plan"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

type accessListWorld struct {
	sim   *atlastest.Server
	cfg   *config.Config
	deps  reconcile.Deps
	natIP string
}

func newAccessListWorld(t *testing.T, static string) *accessListWorld {
	t.Helper()
	return newAccessListWorldWith(t, static, testenv.SharedMoto(t).AWSConfig(t))
}

// newAccessListWorldWith is newAccessListWorld talking to AWS with awsCfg
// (a fault proxy in front of moto).
func newAccessListWorldWith(t *testing.T, static string, awsCfg aws.Config) *accessListWorld {
	t.Helper()
	w := &accessListWorld{sim: atlastest.New()}
	if _, err := w.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.sim.Close() })
	w.sim.AddAPIKey("pub", "priv")
	w.sim.SetControlPlane(controlPlane("3.92.113.229"))
	w.sim.SetProject(project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})
	tag := uniq("egress")
	w.natIP = testenv.CreateNatGateway(t, awsCfg, tag)
	doc := fmt.Sprintf(`
atlas: {baseURL: %q, projects: [%q]}
snapshot: {url: "file://%s/snapshot.json"}
targets:
  - name: access-list
    type: atlas-access-list
    resource: %q
    sid: atlas-ip-sync
    sources: ["nat-gateways:Name=%s"]
    static: [%s]
`, w.sim.URL(), project, t.TempDir(), project, tag, static)
	var err error
	if w.cfg, err = configfile.Parse([]byte(doc)); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	env := map[string]string{"ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": "priv"}
	if w.deps, err = reconciler.Deps(context.Background(), w.cfg, awsCfg, func(k string) string { return env[k] }, slog.New(slog.NewJSONHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *accessListWorld) run() reconcile.Report {
	return reconcile.Run(context.Background(), w.cfg, w.deps, reconcile.Options{VerifyWait: 10 * time.Millisecond})
}

func (w *accessListWorld) entries() string {
	var out []string
	for _, e := range w.sim.AccessListOf(project) {
		v := e.CIDRBlock
		if v == "" {
			v = e.AWSSecurityGroup
		}
		out = append(out, v+"="+e.Comment)
	}
	return strings.Join(out, " ")
}

// The managed entries follow the NAT gateways' addresses and the static
// CIDRs; everybody else's entries stay as they are; entries are added one
// POST at a time.
func TestAccessListFollowsTheNATGateways(t *testing.T) {
	w := newAccessListWorld(t, `"198.51.100.7/32"`)
	w.sim.SetAccessList(project,
		atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"},
		atlastest.AccessEntry{AWSSecurityGroup: "sg-0123", Comment: "peering"},
		atlastest.AccessEntry{CIDRBlock: "192.0.2.50/32", Comment: "atlas-ip-sync (old egress)"})
	w.sim.SetLatency(20 * time.Millisecond) // room for a race, if there were one
	r := w.run()
	if r.Err != nil || r.Targets[0].Status != plan.Applied {
		t.Fatalf("run: %v %+v", r.Err, r.Targets[0])
	}
	want := []string{"198.51.100.7/32=atlas-ip-sync", w.natIP + "/32=atlas-ip-sync", "203.0.113.9/32=office", "sg-0123=peering"}
	got := w.entries()
	for _, e := range want {
		if !strings.Contains(got, e) {
			t.Errorf("access list %s lacks %s", got, e)
		}
	}
	if strings.Contains(got, "192.0.2.50") {
		t.Errorf("the old managed entry is still there: %s", got)
	}
	// What on-call reads speaks of the list's entries, not of a policy.
	if len(r.Alerts) != 1 || !strings.HasPrefix(r.Alerts[0].Body, "The access list's managed entries were updated and verified.") ||
		!strings.Contains(r.Targets[0].Reason, "managed entries") {
		t.Errorf("reason %q, alerts %+v", r.Targets[0].Reason, r.Alerts)
	}
	if w.sim.MaxInFlight(atlastest.AccessListAdd) != 1 || w.sim.Calls(atlastest.AccessListAdd) != 2 || w.sim.Calls(atlastest.AccessListDelete) != 1 {
		t.Fatalf("POSTs %d (max in flight %d), DELETEs %d", w.sim.Calls(atlastest.AccessListAdd), w.sim.MaxInFlight(atlastest.AccessListAdd), w.sim.Calls(atlastest.AccessListDelete))
	}
	// Nothing changed: nothing written.
	if r := w.run(); r.Status != plan.InSync || w.sim.Calls(atlastest.AccessListAdd) != 2 || w.sim.Calls(atlastest.AccessListDelete) != 1 {
		t.Fatalf("second run: %s, %d POSTs, %d DELETEs", r.Status, w.sim.Calls(atlastest.AccessListAdd), w.sim.Calls(atlastest.AccessListDelete))
	}
}

// Atlas allows 200 entries per project: a plan that would pass it is
// refused before any write, counting everybody's entries.
func TestAccessListLimitIsCheckedInThePlan(t *testing.T) {
	w := newAccessListWorld(t, `"198.51.100.7/32"`)
	var others []atlastest.AccessEntry
	for i := range 199 {
		others = append(others, atlastest.AccessEntry{CIDRBlock: fmt.Sprintf("10.9.%d.0/24", i), Comment: "team"})
	}
	w.sim.SetAccessList(project, others...)
	r := w.run()
	if r.Status != plan.Refused || !strings.Contains(r.Targets[0].Reason, "would hold 201 entries; the limit is 200") || w.sim.Calls(atlastest.AccessListAdd) != 0 {
		t.Fatalf("run: %s %+v; %d POSTs", r.Status, r.Targets[0], w.sim.Calls(atlastest.AccessListAdd))
	}
}

// An entry somebody else made for an address ipsync wants is not taken over.
func TestAccessListLeavesOthersEntriesAlone(t *testing.T) {
	w := newAccessListWorld(t, `"203.0.113.9/32"`)
	w.sim.SetAccessList(project, atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"})
	r := w.run()
	if tp := r.Targets[0]; tp.Status != plan.Error || !strings.Contains(tp.Reason, "does not take over an entry it does not own") {
		t.Fatalf("run: %+v", tp)
	}
	if got := w.entries(); !strings.Contains(got, "203.0.113.9/32=office") {
		t.Fatalf("the office entry changed: %s", got)
	}
}
