package plan

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
)

var (
	now    = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	guards = Guards{MinAddresses: 1, MaxRemovePercent: 30, RemovalGrace: 24 * time.Hour, Widest: admission.DefaultWidest}
	kms    = Target{Name: "key", Type: "kms-key-policy", Resource: "1234abcd-12ab-34cd-56ef-1234567890ab", Sid: "AtlasIPAllowList"}
)

// livePolicy is a key policy whose owned statement allows values.
func livePolicy(values ...string) target.Fence {
	f, err := kmspolicy.Fence(policyDoc(values...), "AtlasIPAllowList")
	if err != nil {
		panic(err)
	}
	return f
}

// readErr is what reading doc as a key policy fails with.
func readErr(doc []byte) error {
	_, err := kmspolicy.Fence(doc, "AtlasIPAllowList")
	if err == nil {
		panic("the document reads")
	}
	return err
}

func policyDoc(values ...string) []byte {
	return []byte(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Sid":"AtlasIPAllowList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/atlas"},"Action":"kms:Decrypt","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":%s}}}]}`, quoteList(values)))
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = `"` + v + `"`
	}
	return "[" + strings.Join(q, ",") + "]"
}

func set(vs ...string) ipset.Set { return ipset.MustParse(vs...) }

func record(source ipset.Set, written ipset.Set, departed ...Departure) *Record {
	return &Record{Source: source, Written: written, Departed: departed}
}

func TestPlanTarget(t *testing.T) {
	a3 := set("1.1.1.1", "2.2.2.2", "3.3.3.3")
	tests := []struct {
		name       string
		in         Input
		status     Status
		add, rm    string
		kept       string
		reasonHas  string
		drift      bool
		wantRecord string // departed groups, "since:addrs;…"
	}{
		{name: "first run replaces a placeholder",
			in:     Input{Source: a3, Live: livePolicy("192.0.2.0/32")},
			status: Changes, add: "[1.1.1.1/32 2.2.2.2/32 3.3.3.3/32]", rm: "[192.0.2.0/32]", kept: "[]", reasonHas: "first run"},
		{name: "in sync",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2/32", "3.3.3.3"), Record: record(a3, a3)},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "blocked after a rollback: the change waits",
			in:     Input{Source: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3), Blocked: "blocked since then: Atlas lost the key"},
			status: Blocked, add: "[4.4.4.4/32]", rm: "[]", kept: "[]", reasonHas: "until `ipsync unblock key`"},
		{name: "blocked but in sync: nothing to hold back",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3), Blocked: "blocked since then: Atlas lost the key"},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "Atlas adds an address: applied at once",
			in:     Input{Source: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3)},
			status: Changes, add: "[4.4.4.4/32]", rm: "[]", kept: "[]", reasonHas: "Atlas's addresses changed"},
		{name: "Atlas removes an address: kept during the grace",
			in:     Input{Source: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "5.5.5.5"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "5.5.5.5", "4.4.4.4"), Record: record(set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"), set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"))},
			status: InSync, add: "[]", rm: "[]", kept: "[4.4.4.4/32]", wantRecord: "2026-11-22T12:00:00Z:[4.4.4.4/32]"},
		{name: "grace not yet over",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Record: record(a3, set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Departure{Since: now.Add(-23 * time.Hour), Addresses: set("4.4.4.4")})},
			status: InSync, add: "[]", rm: "[]", kept: "[4.4.4.4/32]", wantRecord: "2026-11-21T13:00:00Z:[4.4.4.4/32]"},
		{name: "grace over: removed",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Record: record(a3, set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Departure{Since: now.Add(-24 * time.Hour), Addresses: set("4.4.4.4")})},
			status: Changes, add: "[]", rm: "[4.4.4.4/32]", kept: "[]", reasonHas: "removal grace ended"},
		{name: "returned address leaves the departures",
			in:     Input{Source: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Record: record(a3, set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Departure{Since: now.Add(-2 * time.Hour), Addresses: set("4.4.4.4")})},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "empty answer refused",
			in:     Input{Source: set(), HasSources: true, Live: livePolicy("1.1.1.1"), Record: record(set("1.1.1.1"), set("1.1.1.1"))},
			status: Refused, reasonHas: "fewer than guards.minAddresses"},
		{name: "empty answer refused on a first run too, static or not",
			in:     Input{Source: set(), Static: set("9.9.9.9"), HasSources: true, Live: livePolicy("1.1.1.1")},
			status: Refused, reasonHas: "gives this target 0 address(es)"},
		{name: "static-only target counts its static list",
			in:     Input{Static: set("9.9.9.9"), Live: livePolicy("9.9.9.9")},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "losing more than 30% is refused",
			in:     Input{Source: set("1.1.1.1", "2.2.2.2"), HasSources: true, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3)},
			status: Refused, reasonHas: "lost 33.3%"},
		{name: "losing 30% exactly is allowed (3 of 10 addresses)",
			in:     Input{Source: set("1.1.1.0/30", "1.1.1.4/31", "1.1.1.6"), HasSources: true, Live: livePolicy("1.1.1.0/29", "1.1.1.8/31"), Record: record(set("1.1.1.0/29", "1.1.1.8/31"), set("1.1.1.0/29", "1.1.1.8/31"))},
			status: InSync, add: "[]", rm: "[]", kept: "[1.1.1.7/32 1.1.1.8/31]"},
		{name: "in sync, but not as recorded: an earlier run wrote and stopped",
			in:     Input{Source: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Record: record(a3, a3)},
			status: InSync, add: "[4.4.4.4/32]", rm: "[]", kept: "[]", reasonHas: "stopped before recording"},
		{name: "an address only an unrecorded write put in the fence keeps the grace",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Record: record(a3, a3), Claimed: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")},
			status: InSync, add: "[4.4.4.4/32]", rm: "[]", kept: "[4.4.4.4/32]", reasonHas: "stopped before recording", wantRecord: "2026-11-22T12:00:00Z:[4.4.4.4/32]"},
		{name: "so does one a first run wrote and never recorded",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), Claimed: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")},
			status: InSync, add: "[]", rm: "[]", kept: "[4.4.4.4/32]", wantRecord: "2026-11-22T12:00:00Z:[4.4.4.4/32]"},
		{name: "a claimed address the fence does not hold is not put back",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3), Claimed: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "a claimed static CIDR is no departure",
			in:     Input{Source: a3, Static: set("9.9.9.9"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "9.9.9.9"), Record: record(a3, set("1.1.1.1", "2.2.2.2", "3.3.3.3", "9.9.9.9")), Claimed: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "9.9.9.9")},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "a hand edit beside a claim is still corrected at once",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "6.6.6.6"), Record: record(a3, a3), Claimed: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")},
			status: Changes, add: "[]", rm: "[6.6.6.6/32]", kept: "[4.4.4.4/32]", reasonHas: "drift", drift: true},
		{name: "drift is corrected and says so",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "6.6.6.6"), Record: record(a3, a3)},
			status: Changes, add: "[]", rm: "[6.6.6.6/32]", kept: "[]", reasonHas: "drift", drift: true},
		// Admission (issue 30): what a source may give.
		{name: "an allow-all answer is refused before anything else",
			in:     Input{Source: ipset.Union(a3, set("0.0.0.0/0")), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3)},
			status: Refused, reasonHas: "the target's sources: 0.0.0.0/0 is broader than guards.widestPrefix (/24)"},
		{name: "a private range from a cluster's list, named by where it came from",
			in: Input{Source: ipset.Union(a3, set("10.0.0.0/8")), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3),
				Parts: []admission.Part{{Source: "controlPlane.outbound.aws.us-east-1", Set: a3}, {Source: "project 5aec7afbf7d068e35a39809b cluster prod inbound", Set: set("10.0.0.0/8")}}},
			status: Refused, reasonHas: "project 5aec7afbf7d068e35a39809b cluster prod inbound: 10.0.0.0/8 is a private range"},
		{name: "an answer of only refused prefixes is admission's refusal, not minAddresses' pass",
			in:     Input{Source: set("127.0.0.1", "192.168.1.20"), Live: livePolicy("1.1.1.1")},
			status: Refused, reasonHas: "192.168.1.20/32 is in 192.168.0.0/16, a private range"},
		{name: "IPv6 allow-all and IPv4-translation prefixes are refused",
			in:     Input{Source: set("::/0"), Live: livePolicy("1.1.1.1")},
			status: Refused, reasonHas: "::/0 is broader than guards.widestPrefix (/48)"},
		{name: "documentation ranges are admitted",
			in:     Input{Source: set("192.0.2.1", "198.51.100.2", "203.0.113.3", "2001:db8::1"), Live: livePolicy("192.0.2.1", "198.51.100.2", "203.0.113.3", "2001:db8::1")},
			status: InSync, add: "[]", rm: "[]"},
		{name: "an opened fence closes at the next admitted answer, without the grace or maxRemovePercent",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "10.0.0.0/8"), Record: record(ipset.Union(a3, set("10.0.0.0/8")), ipset.Union(a3, set("10.0.0.0/8")))},
			status: Changes, add: "[]", rm: "[10.0.0.0/8]", kept: "[]", reasonHas: "not a public address: removed at once: 10.0.0.0/8 is a private range"},
		{name: "so does one an earlier version recorded as departed",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "128.0.0.0/1"), Record: record(a3, ipset.Union(a3, set("128.0.0.0/1")), Departure{Since: now.Add(-time.Hour), Addresses: set("128.0.0.0/1")})},
			status: Changes, add: "[]", rm: "[128.0.0.0/1]", kept: "[]", reasonHas: "broader than guards.widestPrefix: removed at once: 128.0.0.0/1 is broader than guards.widestPrefix (/24)"},
		{name: "and one a crashed run claimed",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "127.0.0.1"), Record: record(a3, a3), Claimed: set("1.1.1.1", "2.2.2.2", "3.3.3.3", "127.0.0.1")},
			status: Changes, add: "[]", rm: "[127.0.0.1/32]", kept: "[]", reasonHas: "127.0.0.1/32 is in 127.0.0.0/8, a loopback range", drift: true},
		{name: "a hand edit of a private address inside the owned part is removed at once",
			in:     Input{Source: a3, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "192.168.1.20"), Record: record(a3, a3)},
			status: Changes, add: "[]", rm: "[192.168.1.20/32]", kept: "[]", reasonHas: "not a public address: removed at once", drift: true},
		{name: "a person's static private range stays",
			in:     Input{Source: a3, Static: set("10.0.0.0/8"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "10.0.0.0/8"), Record: record(a3, ipset.Union(a3, set("10.0.0.0/8")))},
			status: InSync, add: "[]", rm: "[]", kept: "[]"},
		{name: "narrow static CIDRs that add up to every address are never written",
			in:     Input{Source: a3, Static: set("0.0.0.0/1", "128.0.0.0/1"), Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3)},
			status: Refused, reasonHas: "would allow every address (0.0.0.0/0)"},
		{name: "missing Sid is an error with the statement to add",
			in:     Input{Source: a3, ReadErr: readErr([]byte(`{"Version":"2012-10-17","Statement":[]}`))},
			status: Error, reasonHas: `"aws:SourceIp": ["1.1.1.1/32","2.2.2.2/32","3.3.3.3/32"]`},
		{name: "garbage in the owned condition",
			in:     Input{Source: a3, ReadErr: readErr(policyDoc("1.1.1.1", "not-an-ip"))},
			status: Error, reasonHas: `"not-an-ip" is not an IP`},
		{name: "read failure",
			in:     Input{Source: a3, ReadErr: errors.New("AccessDeniedException")},
			status: Error, reasonHas: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Target = kms
			if tt.in.Source.Len() > 0 {
				tt.in.HasSources = true
			}
			tt.in.Kind = kmspolicy.Kind{}
			p := Build([]Input{tt.in}, guards, now)
			tp := p.Targets[0]
			if tp.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", tp.Status, tp.Reason, tt.status)
			}
			wantPlan := tt.status
			if wantPlan == Blocked {
				wantPlan = Error // a blocked change needs a human
			}
			if p.Status != wantPlan {
				t.Errorf("plan status %s, want %s", p.Status, wantPlan)
			}
			if tt.status == Blocked && tp.Change.Document != nil {
				t.Error("a blocked target has a document to write")
			}
			if tt.add != "" && tp.Add.String() != tt.add {
				t.Errorf("add %v, want %v", tp.Add, tt.add)
			}
			if tt.rm != "" && tp.Remove.String() != tt.rm {
				t.Errorf("remove %v, want %v", tp.Remove, tt.rm)
			}
			if tt.kept != "" && tp.Kept.String() != tt.kept {
				t.Errorf("kept %v, want %v", tp.Kept, tt.kept)
			}
			if !strings.Contains(tp.Reason, tt.reasonHas) {
				t.Errorf("reason %q lacks %q", tp.Reason, tt.reasonHas)
			}
			if tp.FirstRun != (tt.in.Record == nil) || tp.Drift != tt.drift {
				t.Errorf("firstRun %v drift %v", tp.FirstRun, tp.Drift)
			}
			if tt.wantRecord != "" {
				var got []string
				for _, d := range tp.NewRecord.Departed {
					got = append(got, d.Since.Format(time.RFC3339)+":"+d.Addresses.String())
				}
				if strings.Join(got, ";") != tt.wantRecord {
					t.Errorf("departures %v, want %v", got, tt.wantRecord)
				}
			}
			if tp.Status == Changes {
				back, err := policy.Read(tp.Change.Document, kms.Sid)
				if err != nil || !ipset.MustParse(back.Values...).Equal(tp.Desired) {
					t.Errorf("document holds %v (%v), want %v", back.Values, err, tp.Desired)
				}
				if tp.Form != "indented" || tp.Size == 0 {
					t.Errorf("form %q size %d", tp.Form, tp.Size)
				}
			} else if tp.Change.Document != nil {
				t.Error("a document to write on a plan that writes nothing")
			}
		})
	}
}

// An access list's reasons speak of its managed entries and, when its
// sources change, of the NAT gateways, not of Atlas; it has no form.
// A rollback an earlier run decided but may not have written (a pending
// block): the plan restores the set it names, unless the policy holds it
// already, with no guard in the way, and the target stays blocked.
func TestPendingRestore(t *testing.T) {
	a3, a4 := set("1.1.1.1", "2.2.2.2", "3.3.3.3"), set("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")
	tests := []struct {
		name      string
		live      target.Fence
		restore   ipset.Set
		readErr   error
		status    Status
		write     string // the owned set the document restores; "" for no document
		add, rm   string
		reasonHas string
	}{
		{name: "the restoring write happened: nothing to write", live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), restore: a3,
			status: Blocked, add: "[]", rm: "[]", reasonHas: "holds what it held before that change"},
		{name: "the change is still in place: restore it", live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"), restore: a3,
			status: Blocked, write: a3.String(), add: "[]", rm: "[4.4.4.4/32]", reasonHas: "this run restores it"},
		{name: "no guard holds the restore back (it removes them all)", live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), restore: set("192.0.2.0/32"),
			status: Blocked, write: "[192.0.2.0/32]", add: "[192.0.2.0/32]", rm: "[1.1.1.1/32 2.2.2.2/32 3.3.3.3/32]"},
		{name: "an unreadable policy stays an error", readErr: errors.New("AccessDeniedException"), restore: a3,
			status: Error, reasonHas: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Target: kms, Source: a4, HasSources: true, Live: tt.live, ReadErr: tt.readErr, Record: record(a3, a3),
				Kind: kmspolicy.Kind{}, Blocked: "blocked since then: Atlas lost the key", Restore: &tt.restore}
			tp := Build([]Input{in}, guards, now).Targets[0]
			if tp.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", tp.Status, tp.Reason, tt.status)
			}
			if tt.add != "" && (tp.Add.String() != tt.add || tp.Remove.String() != tt.rm) {
				t.Errorf("add %v remove %v, want %s %s", tp.Add, tp.Remove, tt.add, tt.rm)
			}
			if !strings.Contains(tp.Reason, tt.reasonHas) {
				t.Errorf("reason %q lacks %q", tp.Reason, tt.reasonHas)
			}
			if tt.write == "" {
				if tp.Change.Document != nil || tp.Restore != nil {
					t.Fatalf("a document to write (restore %v)", tp.Restore)
				}
				return
			}
			if tp.Restore == nil || tp.Restore.String() != tt.write {
				t.Fatalf("restore %v, want %s", tp.Restore, tt.write)
			}
			c, err := policy.Read(tp.Change.Document, kms.Sid)
			if err != nil {
				t.Fatal(err)
			}
			if got := ipset.MustParse(c.Values...); got.String() != tt.write {
				t.Errorf("the document restores %v, want %s", got, tt.write)
			}
			if !strings.Contains(string(tp.Change.Document), `"Sid":"Root"`) && !strings.Contains(string(tp.Change.Document), `"Sid": "Root"`) {
				t.Errorf("the other statement is gone:\n%s", tp.Change.Document)
			}
		})
	}
}

func TestAccessListReasons(t *testing.T) {
	list := Target{Name: "egress", Type: "atlas-access-list", Resource: "5aec7afbf7d068e35a39809b", Sid: "ipsync:"}
	doc := func(values ...string) target.Fence {
		return entries.New(entries.List{Managed: set(values...), Count: len(values), Limit: atlasaccesslist.Capacity})
	}
	one, two := set("198.51.100.7"), set("198.51.100.7", "198.51.100.9")
	for _, tt := range []struct {
		name, want string
		in         Input
	}{
		{"first run", "first run: the managed entries are replaced with the desired addresses, whatever they held", Input{Source: one, Live: doc()}},
		{"drift", "drift: the managed entries were changed outside ipsync; restoring them", Input{Source: one, Record: record(one, one), Live: doc("192.0.2.1")}},
		{"a NAT gateway added", "the NAT gateways' addresses changed", Input{Source: two, Record: record(one, one), Live: doc("198.51.100.7")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Target, tt.in.HasSources, tt.in.Kind = list, true, atlasaccesslist.Kind{}
			tp := Build([]Input{tt.in}, guards, now).Targets[0]
			if tp.Status != Changes || tp.Reason != tt.want {
				t.Fatalf("%s: %q, want %q", tp.Status, tp.Reason, tt.want)
			}
			if tp.Form != "" || tp.Size != tp.Desired.Len() {
				t.Errorf("form %q size %d, want no form and %d entries", tp.Form, tp.Size, tp.Desired.Len())
			}
		})
	}
	// A refusal names the NAT gateways, not Atlas, as the suspect source.
	many := set("198.51.100.1", "198.51.100.3", "198.51.100.5", "198.51.100.7")
	for name, in := range map[string]Input{
		"no gateway":         {Source: set(), Record: record(one, one), Live: doc("198.51.100.7")},
		"most gateways gone": {Source: one, Record: record(many, many), Live: doc(many.Strings()...)},
	} {
		in.Target, in.HasSources, in.Kind = list, true, atlasaccesslist.Kind{}
		tp := Build([]Input{in}, guards, now).Targets[0]
		if tp.Status != Refused || !strings.HasPrefix(tp.Reason, "The NAT gateways' answer ") || strings.Contains(tp.Reason, "Atlas") {
			t.Errorf("%s: %s %q", name, tp.Status, tp.Reason)
		}
	}
}

func TestOversizeIsRefusedBeforeAnyWrite(t *testing.T) {
	var many []string
	for i := range 3000 {
		many = append(many, fmt.Sprintf("44.%d.%d.1", i/200, (i%200)+1)) // non-adjacent /32s
	}
	in := Input{Target: kms, Source: set(many...), HasSources: true, Live: livePolicy("192.0.2.0/32"), Kind: kmspolicy.Kind{}}
	p := Build([]Input{in}, guards, now)
	if p.Status != Refused || !strings.Contains(p.Targets[0].Reason, "even compact") || p.Targets[0].Change.Document != nil {
		t.Fatalf("status %s reason %q", p.Status, p.Targets[0].Reason)
	}
}

func TestOverallStatus(t *testing.T) {
	for _, tt := range []struct {
		in   []Status
		want Status
	}{
		{nil, InSync},
		{[]Status{InSync, InSync}, InSync},
		{[]Status{InSync, Changes}, Changes},
		{[]Status{Changes, Error}, Error},
		{[]Status{Error, Refused, Changes}, Refused},
		{[]Status{Changes, Blocked}, Error},
		{[]Status{Blocked, Refused}, Refused},
	} {
		ts := make([]TargetPlan, len(tt.in))
		for i, s := range tt.in {
			ts[i].Status = s
		}
		if got := overall(ts); got != tt.want {
			t.Errorf("overall(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRemovalGraceGroups(t *testing.T) {
	rec := &Record{Source: set("1.1.1.1", "2.2.2.2"), Departed: []Departure{
		{Since: now.Add(-30 * time.Hour), Addresses: set("7.7.7.7")}, // expired
		{Since: now.Add(-5 * time.Hour), Addresses: set("8.8.8.8", "9.9.9.9")},
	}}
	kept, dep := RemovalGrace(rec, set("1.1.1.1", "9.9.9.9"), ipset.Set{}, now, 24*time.Hour)
	if kept.String() != "[2.2.2.2/32 8.8.8.8/32]" {
		t.Fatalf("kept %v", kept)
	}
	if len(dep) != 2 || !dep[0].Since.Equal(now.Add(-5*time.Hour)) || dep[0].Addresses.String() != "[8.8.8.8/32]" ||
		!dep[1].Since.Equal(now) || dep[1].Addresses.String() != "[2.2.2.2/32]" {
		t.Fatalf("departures %+v", dep)
	}
	if kept, dep := RemovalGrace(rec, set("1.1.1.1"), ipset.Set{}, now, 0); !kept.IsEmpty() || len(dep) != 0 {
		t.Fatalf("zero grace kept %v %v", kept, dep)
	}
	// What an unrecorded write put in the fence departs like a recorded
	// source; an address already departing keeps its time.
	kept, dep = RemovalGrace(rec, set("1.1.1.1", "2.2.2.2"), set("5.5.5.5", "8.8.8.8"), now, 24*time.Hour)
	if kept.String() != "[5.5.5.5/32 8.8.8.8/32 9.9.9.9/32]" || len(dep) != 2 || !dep[0].Since.Equal(now.Add(-5*time.Hour)) ||
		!dep[1].Since.Equal(now) || dep[1].Addresses.String() != "[5.5.5.5/32]" {
		t.Fatalf("with unrecorded writes: kept %v, departures %+v", kept, dep)
	}
	if kept, dep := RemovalGrace(nil, set("1.1.1.1"), set("1.1.1.1", "5.5.5.5"), now, 24*time.Hour); kept.String() != "[5.5.5.5/32]" || len(dep) != 1 {
		t.Fatalf("no record, an unrecorded write: kept %v %v", kept, dep)
	}
}

// Replan plans one target again (here against a limit another document
// mostly uses) and the verdict follows; the other target keeps its plan.
func TestReplanOneTarget(t *testing.T) {
	a3 := set("1.1.1.1", "2.2.2.2", "3.3.3.3")
	in := []Input{
		{Target: kms, Source: a3, HasSources: true, Live: livePolicy("192.0.2.0/32"), Kind: kmspolicy.Kind{}},
		{Target: Target{Name: "other", Type: "kms-key-policy", Resource: "r2", Sid: "AtlasIPAllowList"}, Source: a3, HasSources: true, Live: livePolicy("1.1.1.1", "2.2.2.2", "3.3.3.3"), Record: record(a3, a3), Kind: kmspolicy.Kind{}},
	}
	p := Build(in, guards, now)
	if p.Status != Changes || p.Targets[0].Status != Changes || p.Targets[1].Status != InSync {
		t.Fatalf("plan %s: %s %s", p.Status, p.Targets[0].Status, p.Targets[1].Status)
	}
	in[0].Room = &target.Capacity{Name: "KMS key policy", Max: 100, Unit: target.Bytes}
	p.Replan(0, in[0], guards, now)
	if p.Status != Refused || p.Targets[0].Status != Refused || p.Targets[1].Status != InSync || !strings.Contains(p.Targets[0].Reason, "the limit is 100") {
		t.Fatalf("after replan %s: %+v / %s", p.Status, p.Targets[0].Reason, p.Targets[1].Status)
	}
}

// v4Only is a fence that carries IPv4 only.
type v4Only struct{ target.Fence }

func (v4Only) Families() target.Families { return target.IPv4 }

// A fence asks for the addresses it can carry; the others are left out of
// the plan, the record and the change, and the reason says so.
func TestAFenceGetsOnlyTheFamiliesItCarries(t *testing.T) {
	live := v4Only{entries.New(entries.List{Managed: set("192.0.2.1"), Count: 1, Limit: atlasaccesslist.Capacity})}
	in := Input{Target: kms, Kind: atlasaccesslist.Kind{}, Source: set("192.0.2.1", "198.51.100.7", "2001:db8::1"), HasSources: true, Live: live}
	tp := Build([]Input{in}, guards, now).Targets[0]
	if tp.Status != Changes || tp.Add.String() != "[198.51.100.7/32]" || tp.Change.Set.String() != "[192.0.2.1/32 198.51.100.7/32]" ||
		tp.NewRecord.Written.String() != tp.Change.Set.String() {
		t.Fatalf("%s: add %v, writes %v, records %v", tp.Status, tp.Add, tp.Change.Set, tp.NewRecord.Written)
	}
	if !strings.Contains(tp.Reason, "left out, the fence cannot carry their address family: [2001:db8::1/128]") {
		t.Errorf("reason %q", tp.Reason)
	}
	both := in
	both.Live = live.Fence
	if tp := Build([]Input{both}, guards, now).Targets[0]; tp.Add.Len() != 2 || strings.Contains(tp.Reason, "left out") {
		t.Errorf("a fence of both families: add %v, reason %q", tp.Add, tp.Reason)
	}
}

// Other documents that use the whole shared limit (or more) leave no room:
// the change is refused, never planned against the kind's full capacity.
func TestNoRoomLeftIsRefused(t *testing.T) {
	for _, max := range []int{0, -40} {
		in := Input{Target: kms, Kind: kmspolicy.Kind{}, Source: set("1.1.1.1"), HasSources: true, Live: livePolicy("192.0.2.0/32"),
			Room: &target.Capacity{Name: "IAM role's inline policies", Max: max, Unit: target.Characters}}
		tp := Build([]Input{in}, guards, now).Targets[0]
		if tp.Status != Refused || tp.Limit != max || !strings.Contains(tp.Reason, fmt.Sprintf("the limit is %d", max)) {
			t.Errorf("room %d: %s %q (limit %d)", max, tp.Status, tp.Reason, tp.Limit)
		}
	}
}

// Another owner's part counts only when it holds the very prefix ipsync
// would add (the service refuses a duplicate): a broader one, or one of
// the addresses an aggregated prefix holds, counts for nothing (issue 30).
func TestOnlyAnExactDuplicateIsLeftOut(t *testing.T) {
	for _, c := range []struct {
		name, others, add, reasonHas string
	}{
		{"exact", "3.3.3.3/32", "[1.1.1.1/32 2.2.2.2/32]", "with the same prefix, so ipsync adds nothing for: [3.3.3.3/32]"},
		{"broader", "3.0.0.0/8", "[1.1.1.1/32 2.2.2.2/32 3.3.3.3/32]", ""},
		{"allow-all", "0.0.0.0/0", "[1.1.1.1/32 2.2.2.2/32 3.3.3.3/32]", ""},
		{"narrower than an aggregated prefix", "1.1.1.2/32", "[1.1.1.2/31 2.2.2.2/32 3.3.3.3/32]", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			source := set("1.1.1.1", "2.2.2.2", "3.3.3.3")
			if c.name == "narrower than an aggregated prefix" {
				source = set("1.1.1.2/31", "2.2.2.2", "3.3.3.3")
			}
			live := entries.New(entries.List{OthersHold: []netip.Prefix{netip.MustParsePrefix(c.others)}, Others: 1, Limit: atlasaccesslist.Capacity})
			tp := Build([]Input{{Target: kms, Source: source, HasSources: true, Live: live, Kind: kmspolicy.Kind{}}}, guards, now).Targets[0]
			if tp.Status != Changes || tp.Add.String() != c.add || (c.reasonHas == "") == strings.Contains(tp.Reason, "already allowed") || !strings.Contains(tp.Reason, c.reasonHas) {
				t.Fatalf("%s: add %s %q", tp.Status, tp.Add, tp.Reason)
			}
		})
	}
}
