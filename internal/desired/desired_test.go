package desired_test

import (
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/desired"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
)

var snapshotOf = reconcile.SnapshotOf

func TestSourcesAreNarrowed(t *testing.T) {
	s := snapshotOf(atlas.Answer{ControlPlane: atlas.ControlPlane{
		Outbound: atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse("1.1.1.1"), "eu-west-1": ipset.MustParse("2.2.2.2")}, "gcp": {"us-central1": ipset.MustParse("3.3.3.3")}},
		Inbound:  atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse("4.4.4.4")}},
		Gateways: []atlas.Gateway{{Name: "g", Outbound: atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse("5.5.5.5")}}}},
	}, Projects: []atlas.Project{{GroupID: "p", Clusters: []atlas.Cluster{{Name: "c", Inbound: ipset.MustParse("6.6.6.6"), Outbound: ipset.MustParse("7.7.7.7"), FutureInbound: ipset.MustParse("8.8.8.8"), FutureOutbound: ipset.MustParse("9.9.9.9")}}}}}, time.Now())
	for src, want := range map[string]string{
		"control-plane-outbound":               "[1.1.1.1/32 2.2.2.2/32 3.3.3.3/32]",
		"control-plane-outbound:aws":           "[1.1.1.1/32 2.2.2.2/32]",
		"control-plane-outbound:aws/eu-west-1": "[2.2.2.2/32]",
		"control-plane-inbound":                "[4.4.4.4/32]",
		"gateways-outbound":                    "[5.5.5.5/32]",
		"nodes":                                "[6.6.6.6/32 7.7.7.7/32 8.8.8.8/32 9.9.9.9/32]",
		"nodes-inbound":                        "[6.6.6.6/32 8.8.8.8/32]",
		"nodes-outbound":                       "[7.7.7.7/32 9.9.9.9/32]",
	} {
		parsed, err := config.ParseSource(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := desired.Sources(s, []config.Source{parsed}).String(); got != want {
			t.Errorf("%s = %s, want %s", src, got, want)
		}
	}
}

// Each part is named by where in Atlas's answer it lies, as admission's
// verdicts name it.
func TestPartsNameWhereTheyCameFrom(t *testing.T) {
	s := snapshotOf(atlas.Answer{ControlPlane: atlas.ControlPlane{
		Outbound: atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse("1.1.1.1")}},
		Gateways: []atlas.Gateway{{Name: "g", Inbound: atlas.ProviderIPs{"aws": {"us-east-1": ipset.MustParse("5.5.5.5")}}}},
	}, Projects: []atlas.Project{{GroupID: "5aec7afbf7d068e35a39809b", Clusters: []atlas.Cluster{{Name: "prod", Inbound: ipset.MustParse("10.0.0.0/8")}}}}}, time.Now())
	var got []string
	for _, p := range desired.Answer(s) {
		got = append(got, p.Source+"="+p.Set.String())
	}
	want := []string{
		"controlPlane.outbound.aws.us-east-1=[1.1.1.1/32]",
		"controlPlane.gateways.g.inbound.aws.us-east-1=[5.5.5.5/32]",
		"project 5aec7afbf7d068e35a39809b cluster prod inbound=[10.0.0.0/8]",
		"project 5aec7afbf7d068e35a39809b cluster prod futureInbound=[]",
		"project 5aec7afbf7d068e35a39809b cluster prod outbound=[]",
		"project 5aec7afbf7d068e35a39809b cluster prod futureOutbound=[]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	nodes, _ := config.ParseSource("nodes")
	twice := desired.Parts(s, []config.Source{nodes, nodes})
	if len(twice) != 4 {
		t.Fatalf("a part two sources take appears %d times in 4 parts", len(twice))
	}
}
