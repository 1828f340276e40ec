package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
)

func collect() (*[]Check, adder) {
	var out []Check
	return &out, func(s Status, name, format string, args ...any) {
		out = append(out, Check{s, name, fmt.Sprintf(format, args...)})
	}
}

func TestCheckSeen(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		snap     *snapshot.Snapshot
		schedule Status
		has      string
	}{
		{"no snapshot", nil, Warn, "no snapshot yet"},
		{"never scheduled", &snapshot.Snapshot{}, Warn, "no scheduled run recorded yet"},
		{"recent", &snapshot.Snapshot{Seen: map[string]time.Time{"schedule": now.Add(-2 * time.Hour)}}, OK, "2h0m0s ago"},
		{"stale", &snapshot.Snapshot{Seen: map[string]time.Time{"schedule": now.Add(-8 * time.Hour)}}, Warn, "is the schedule enabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, add := collect()
			checkSeen(tt.snap, now, add)
			c := (*got)[0]
			if c.Status != tt.schedule || !strings.Contains(c.Detail, tt.has) {
				t.Fatalf("%+v", c)
			}
		})
	}
}

func TestCheckBlocked(t *testing.T) {
	since := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	snap := &snapshot.Snapshot{Blocked: map[string]snapshot.Block{
		"b-done":    {Since: since, Reason: "Atlas reported encryption at rest invalid for [p] after this change; the previous policy was restored"},
		"a-pending": {Since: since, Reason: "Atlas reported encryption at rest invalid for [p] after this change, which is rolled back", Pending: true, Restore: ipset.MustParse("192.0.2.1")},
	}}
	got, add := collect()
	checkBlocked(snap, add)
	if len(*got) != 2 {
		t.Fatalf("%d checks: %+v", len(*got), *got)
	}
	pending, done := (*got)[0], (*got)[1]
	if pending.Name != "blocked a-pending" || pending.Status != Warn || !strings.Contains(pending.Detail, "the next run restores the owned statement to [192.0.2.1/32]") || !strings.Contains(pending.Detail, "ipsync unblock a-pending") {
		t.Errorf("pending block: %+v", pending)
	}
	if done.Name != "blocked b-done" || done.Status != Warn || strings.Contains(done.Detail, "next run restores") || !strings.Contains(done.Detail, "ipsync unblock b-done") {
		t.Errorf("finished block: %+v", done)
	}
}

// fixed is an adapter whose fence is always f.
type fixed struct{ f target.Fence }

func (d fixed) Read(context.Context, target.Ref) (target.Fence, error) { return d.f, nil }
func (d fixed) Write(context.Context, target.Ref, target.Change) error {
	return errors.New("doctor writes nothing")
}

func keyPolicy(t *testing.T, doc, sid string) fixed {
	f, err := kmspolicy.Fence([]byte(doc), sid)
	if err != nil {
		t.Fatal(err)
	}
	return fixed{f}
}

func TestHeadroomWarnsAbove80Percent(t *testing.T) {
	values := make([]string, 0, 1700)
	for i := range 1700 {
		values = append(values, fmt.Sprintf(`"10.%d.%d.1/32"`, i/250, i%250))
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":[` + strings.Join(values, ",") + `]}}}]}`
	tg := config.Target{Name: "k", Type: kmspolicy.Type, Resource: "r", Sid: "S"}
	d := Deps{Adapters: target.Adapters{{Type: kmspolicy.Type}: keyPolicy(t, doc, tg.Sid)}, Timeout: time.Second}
	got, add := collect()
	d.checkTarget(context.Background(), tg, nil, add)
	if c := (*got)[0]; c.Status != Warn || !strings.Contains(c.Detail, "over 80 %") || !strings.Contains(c.Detail, "1700 prefix(es)") {
		t.Fatalf("%d bytes: %+v", len(doc), c)
	}
}

// An access list has no statement or condition to name: the check counts
// the managed entries and the room left under Atlas's 200.
func TestAccessListCheckCountsEntries(t *testing.T) {
	list := fixed{entries.New(entries.List{Managed: ipset.MustParse("198.51.100.7/32"), Count: 1, Others: 2, Limit: atlasaccesslist.Capacity, Marker: `comment prefix "ipsync:"`})}
	tg := config.Target{Name: "egress", Type: atlasaccesslist.Type, Resource: "5aec7afbf7d068e35a39809b", Sid: "ipsync:"}
	d := Deps{Adapters: target.Adapters{{Type: atlasaccesslist.Type}: list}, Timeout: time.Second}
	got, add := collect()
	d.checkTarget(context.Background(), tg, nil, add)
	c := (*got)[0]
	want := `1 entry managed (comment prefix "ipsync:"); 3 of 200 entries used, 197 left`
	if c.Status != OK || !strings.HasSuffix(c.Detail, want) || strings.Contains(c.Detail, "statement") {
		t.Fatalf("got %+v, want %q at the end", c, want)
	}
}

// taggedList is a fence whose resource carries tags.
type taggedList struct {
	fixed
	tags map[string]string
}

func (l taggedList) Tags(context.Context, target.Ref) (map[string]string, error) { return l.tags, nil }

// A target whose resource a CloudFormation stack or Terraform declares gets
// a warning that points to docs/iac.md; other tags do not.
func TestResourcesDeclaredInIaCAreWarnedAbout(t *testing.T) {
	for _, c := range []struct {
		tags map[string]string
		want string // "" for no warning
	}{
		{map[string]string{"aws:cloudformation:stack-name": "network"}, "CloudFormation stack network"},
		{map[string]string{"ManagedBy": "Terraform"}, "Terraform (tag ManagedBy=Terraform)"},
		{map[string]string{"terraform": "true"}, "Terraform (tag terraform)"},
		{map[string]string{"managed-by": "pulumi", "Name": "terraform-ish"}, ""},
		{nil, ""},
	} {
		list := taggedList{fixed{entries.New(entries.List{Managed: ipset.MustParse("198.51.100.7/32"), Count: 1, Limit: atlasaccesslist.Capacity})}, c.tags}
		tg := config.Target{Name: "pl", Type: atlasaccesslist.Type, Resource: "5aec7afbf7d068e35a39809b", Sid: "ipsync:"}
		d := Deps{Adapters: target.Adapters{{Type: atlasaccesslist.Type}: list}, Timeout: time.Second}
		got, add := collect()
		d.checkTarget(context.Background(), tg, nil, add)
		switch {
		case c.want == "" && len(*got) != 1:
			t.Errorf("%v: %+v", c.tags, *got)
		case c.want != "" && (len(*got) != 2 || (*got)[1].Status != Warn || !strings.Contains((*got)[1].Detail, c.want) || !strings.Contains((*got)[1].Detail, "docs/iac.md")):
			t.Errorf("%v: %+v", c.tags, *got)
		}
	}
}

// A security group's line says which traffic the owned rules allow, how
// many of each family, and the room under its quota.
func TestSecurityGroupCheckCountsRulesPerFamily(t *testing.T) {
	rule, err := securitygroup.ParseRule(target.Options{Direction: "egress", Protocol: "tcp", Ports: "27015-27017"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := securitygroup.NewFence(securitygroup.Group{ID: "sg-0123456789abcdef0", Rule: rule, Sid: "ipsync:", Rules: []securitygroup.GroupRule{
		{Egress: true, Protocol: "tcp", From: 27015, To: 27017, CIDR: "192.0.2.1/32", Description: "ipsync: managed"},
		{Egress: true, Protocol: "tcp", From: 27015, To: 27017, CIDR: "2001:db8::1/128", IPv6: true, Description: "ipsync: managed"},
		{Egress: true, Protocol: "tcp", From: 443, To: 443, CIDR: "198.51.100.0/24", Description: "https"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tg := config.Target{Name: "sg", Type: securitygroup.Type, Resource: "sg-0123456789abcdef0", Sid: "ipsync:"}
	d := Deps{Adapters: target.Adapters{{Type: securitygroup.Type}: fixed{f}}, Timeout: time.Second}
	got, add := collect()
	d.checkTarget(context.Background(), tg, nil, add)
	want := `2 owned egress tcp 27015-27017 rule(s) (description prefix "ipsync:"): 1 IPv4, 1 IPv6; 1 IPv4 and 0 IPv6 rules of others in that direction; 2 of 60 rules used, 58 left`
	if c := (*got)[0]; c.Status != OK || !strings.HasSuffix(c.Detail, want) {
		t.Fatalf("got %+v, want %q at the end", c, want)
	}
}

// A rule of another owner that opens the target's traffic to every
// address (AWS's default egress rule) makes the fence open: doctor says
// so, and that ipsync's rules take over when it goes (issue 30).
func TestAnOpenFenceIsWarnedAbout(t *testing.T) {
	rule, err := securitygroup.ParseRule(target.Options{Direction: "egress", Protocol: "tcp", Ports: "27015-27017"})
	if err != nil {
		t.Fatal(err)
	}
	tg := config.Target{Name: "sg", Type: securitygroup.Type, Resource: "sg-0123456789abcdef0", Sid: "ipsync:"}
	for _, c := range []struct {
		name  string
		rules []securitygroup.GroupRule
		warn  string
	}{
		{"default egress", []securitygroup.GroupRule{{ID: "sgr-1", Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"}},
			"the fence is open: rule sgr-1 (all traffic to 0.0.0.0/0) of another owner allows this traffic from every address; ipsync's rules take effect when that rule goes"},
		{"IPv6, the target's ports", []securitygroup.GroupRule{{ID: "sgr-2", Egress: true, Protocol: "tcp", From: 27000, To: 28000, CIDR: "::/0", IPv6: true}}, "rule sgr-2 (tcp 27000-28000 to ::/0)"},
		{"other ports", []securitygroup.GroupRule{{ID: "sgr-3", Egress: true, Protocol: "tcp", From: 443, To: 443, CIDR: "0.0.0.0/0"}}, ""},
		{"a /1", []securitygroup.GroupRule{{ID: "sgr-4", Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/1"}}, ""},
	} {
		f, err := securitygroup.NewFence(securitygroup.Group{ID: tg.Resource, Rule: rule, Sid: "ipsync:", Rules: c.rules})
		if err != nil {
			t.Fatal(err)
		}
		d := Deps{Adapters: target.Adapters{{Type: securitygroup.Type}: fixed{f}}, Timeout: time.Second}
		got, add := collect()
		d.checkTarget(context.Background(), tg, nil, add)
		var open []Check
		for _, ch := range *got {
			if ch.Name == "target sg open" {
				open = append(open, ch)
			}
		}
		switch {
		case c.warn == "" && len(open) != 0:
			t.Errorf("%s: %+v", c.name, open)
		case c.warn != "" && (len(open) != 1 || open[0].Status != Warn || !strings.Contains(open[0].Detail, c.warn)):
			t.Errorf("%s: %+v, want a WARN with %q", c.name, open, c.warn)
		}
	}
	pl := entries.New(entries.List{OthersHold: []netip.Prefix{netip.MustParsePrefix("::/0")}, Others: 1, Limit: atlasaccesslist.Capacity})
	if got := pl.OpenToAll(); len(got) != 1 || got[0] != "an entry of ::/0" {
		t.Fatalf("a list's allow-all entry: %q", got)
	}
}
