package reconciletest

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
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

type AccessListWorld struct {
	Sim   *atlastest.Server
	Cfg   *config.Config
	Deps  reconcile.Deps
	NATIP string
}

func NewAccessListWorld(t *testing.T, static string) *AccessListWorld {
	t.Helper()
	return NewAccessListWorldWith(t, static, testenv.SharedMoto(t).AWSConfig(t))
}

// NewAccessListWorldWith is newAccessListWorld talking to AWS with awsCfg
// (a fault proxy in front of moto).
func NewAccessListWorldWith(t *testing.T, static string, awsCfg aws.Config) *AccessListWorld {
	t.Helper()
	w := &AccessListWorld{Sim: atlastest.New()}
	if _, err := w.Sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Sim.Close() })
	w.Sim.AddAPIKey("pub", "priv")
	w.Sim.SetControlPlane(ControlPlane("3.92.113.229"))
	w.Sim.SetProject(Project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})
	tag := Uniq("egress")
	w.NATIP = testenv.CreateNatGateway(t, awsCfg, tag)
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
`, w.Sim.URL(), Project, t.TempDir(), Project, tag, static)
	var err error
	if w.Cfg, err = configfile.Parse([]byte(doc)); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if w.Deps, err = reconciler.DepsFor(w.Cfg, awsCfg, AtlasClient(t, w.Sim.URL(), slog.New(slog.DiscardHandler)), slog.New(slog.NewJSONHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *AccessListWorld) Run() reconcile.Report {
	return reconcile.Run(context.Background(), w.Cfg, w.Deps, reconcile.Options{VerifyWait: 10 * time.Millisecond})
}

func (w *AccessListWorld) Entries() string {
	var out []string
	for _, e := range w.Sim.AccessListOf(Project) {
		v := e.CIDRBlock
		if v == "" {
			v = e.AWSSecurityGroup
		}
		out = append(out, v+"="+e.Comment)
	}
	return strings.Join(out, " ")
}
