package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/atlas-ip-sync/atlas-ip-sync"

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module+"/")] = p
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func internalImports(p pkg) []string {
	var out []string
	for _, i := range p.Imports {
		if rest, ok := strings.CutPrefix(i, module+"/"); ok {
			out = append(out, rest)
		}
	}
	return out
}

// allowed is docs/design.md's table of which internal packages each may
// import, for every package under internal/ but the test helpers. wire is
// the CLI's and functions' shared wiring; wire/reconciler is where the
// target kinds meet the loop.
var allowed = map[string][]string{
	"internal/ipset":             {},
	"internal/admission":         {"internal/ipset"},
	"internal/policy":            {},
	"internal/secret":            {},
	"internal/ids":               {},
	"internal/snapshot/location": {},
	"internal/target":            {"internal/ipset"},
	// The kinds: pure, so that config can know them all without linking a
	// service's client. Each kind's adapter is its subpackage.
	"internal/target/policydoc":       {"internal/ipset", "internal/policy", "internal/target"},
	"internal/target/entries":         {"internal/ipset", "internal/target"},
	"internal/target/kmspolicy":       {"internal/ids", "internal/policy", "internal/target", "internal/target/policydoc"},
	"internal/target/vpcepolicy":      {"internal/ids", "internal/policy", "internal/target", "internal/target/policydoc"},
	"internal/target/iamrolepolicy":   {"internal/ids", "internal/policy", "internal/target", "internal/target/policydoc"},
	"internal/target/atlasaccesslist": {"internal/ids", "internal/target"},
	"internal/target/securitygroup":   {"internal/ids", "internal/ipset", "internal/target"},
	"internal/target/prefixlist":      {"internal/ids", "internal/ipset", "internal/target", "internal/target/entries"},
	"internal/target/wafipset":        {"internal/ids", "internal/ipset", "internal/target", "internal/target/entries"},
	"internal/target/gcpaccesslevel":  {"internal/ipset", "internal/target", "internal/target/entries"},
	"internal/target/kinds": {"internal/target", "internal/target/atlasaccesslist", "internal/target/iamrolepolicy",
		"internal/target/kmspolicy", "internal/target/vpcepolicy", "internal/target/securitygroup", "internal/target/prefixlist", "internal/target/wafipset", "internal/target/gcpaccesslevel", "internal/target/azurekeyvault"},
	"internal/target/kmspolicy/kmsio":              {"internal/target", "internal/target/kmspolicy"},
	"internal/target/vpcepolicy/vpceio":            {"internal/target", "internal/target/vpcepolicy"},
	"internal/target/iamrolepolicy/iamio":          {"internal/target", "internal/target/iamrolepolicy"},
	"internal/target/atlasaccesslist/accesslistio": {"internal/atlas", "internal/ipset", "internal/target", "internal/target/atlasaccesslist", "internal/target/entries"},
	"internal/target/securitygroup/sgio":           {"internal/target", "internal/target/securitygroup"},
	"internal/target/prefixlist/plio":              {"internal/ipset", "internal/target", "internal/target/prefixlist"},
	"internal/target/wafipset/wafio":               {"internal/target", "internal/target/wafipset"},
	"internal/target/gcpaccesslevel/gcpio":         {"internal/secret", "internal/target", "internal/target/gcpaccesslevel", "internal/target/restcall"},
	"internal/target/restcall":                     {},
	"internal/target/azurekeyvault":                {"internal/ipset", "internal/target", "internal/target/entries"},
	"internal/target/azurekeyvault/azkvio":         {"internal/ipset", "internal/secret", "internal/target", "internal/target/azurekeyvault", "internal/target/restcall"},
	"internal/plan":                                {"internal/admission", "internal/ipset", "internal/target"},
	"internal/snapshot":                            {"internal/ipset"},
	"internal/snapshotstore":                       {"internal/snapshot"},
	"internal/atlas":                               {"internal/ipset"},
	"internal/natgw":                               {"internal/ipset"},
	"internal/config":                              {"internal/admission", "internal/ids", "internal/ipset", "internal/snapshot/location", "internal/target", "internal/target/kinds"},
	"internal/configfile":                          {"internal/config"},
	"internal/notify":                              {"internal/plan", "internal/ipset", "internal/target"},
	"internal/notify/snsalerts":                    {"internal/notify"},
	"internal/webhook":                             {"internal/metrics", "internal/secret"},
	"internal/metrics":                             {},
	"internal/dashboard":                           {"internal/metrics", "internal/reconcilefn"},
	"internal/desired":                             {"internal/admission", "internal/config", "internal/ipset", "internal/snapshot"},
	"internal/bookkeeping":                         {"internal/config", "internal/ipset", "internal/notify", "internal/plan", "internal/snapshot"},
	"internal/encwatch":                            {"internal/atlas", "internal/config", "internal/ipset", "internal/plan", "internal/snapshot"},
	"internal/reconcile":                           {"internal/admission", "internal/atlas", "internal/snapshot", "internal/ipset", "internal/plan", "internal/config", "internal/notify", "internal/bookkeeping", "internal/desired", "internal/encwatch", "internal/target"},
	"internal/reconcilefn":                         {"internal/config", "internal/metrics", "internal/plan", "internal/reconcile"},
	"internal/doctor":                              {"internal/atlas", "internal/bookkeeping", "internal/config", "internal/snapshot", "internal/target"},
	"internal/lambdafn":                            {"internal/config", "internal/wire"},
	"internal/wire":                                {"internal/config", "internal/snapshot", "internal/snapshot/location", "internal/snapshotstore"},
	"internal/wire/atlasconn":                      {"internal/atlas", "internal/config", "internal/secret"},
	"internal/wire/hook":                           {"internal/admission", "internal/config", "internal/snapshot", "internal/webhook", "internal/wire"},
	"internal/wire/reconciler": {"internal/atlas", "internal/config", "internal/natgw", "internal/notify", "internal/notify/snsalerts", "internal/target", "internal/target/kinds", "internal/reconcile", "internal/wire", "internal/wire/atlasconn",
		"internal/target/atlasaccesslist", "internal/target/iamrolepolicy", "internal/target/kmspolicy", "internal/target/vpcepolicy",
		"internal/target/atlasaccesslist/accesslistio", "internal/target/iamrolepolicy/iamio", "internal/target/kmspolicy/kmsio", "internal/target/vpcepolicy/vpceio",
		"internal/target/securitygroup", "internal/target/prefixlist", "internal/target/wafipset",
		"internal/target/securitygroup/sgio", "internal/target/prefixlist/plio", "internal/target/wafipset/wafio",
		"internal/target/gcpaccesslevel", "internal/target/gcpaccesslevel/gcpio",
		"internal/target/azurekeyvault", "internal/target/azurekeyvault/azkvio", "internal/target/restcall"},
}

// helpers are internal packages for tests only (helpers, or packages of
// nothing but tests), outside the table.
var helpers = []string{"internal/archtest", "internal/testenv", "internal/reconcile/reconciletest", "internal/reconcile/scenarios", "internal/reconcile/faults", "internal/atlas/atlastest", "internal/gcp/gcptest", "internal/azure/azuretest"}

// testOnly never reaches a binary that is shipped.
var testOnly = []string{
	"github.com/getkin/kin-openapi",
	"github.com/Shopify/toxiproxy",
	"pgregory.net/rapid",
	module + "/internal/atlas/atlastest",
	module + "/internal/gcp/gcptest",
	module + "/internal/azure/azuretest",
	module + "/internal/testenv",
	module + "/internal/reconcile/reconciletest",
}

func TestDependencyRule(t *testing.T) {
	pkgs := listPackages(t)
	for name, p := range pkgs {
		for _, imp := range internalImports(p) {
			if strings.HasPrefix(name, "internal/") && (strings.HasPrefix(imp, "functions/") || strings.HasPrefix(imp, "cmd/")) {
				t.Errorf("%s imports %s: nothing under internal/ may import functions/ or cmd/", name, imp)
			}
		}
		rules, ok := allowed[name]
		if !ok {
			if strings.HasPrefix(name, "internal/") && !contains(helpers, name) {
				t.Errorf("%s is not in the dependency table: add it, with what it may import", name)
			}
			continue
		}
		for _, imp := range internalImports(p) {
			if !contains(rules, imp) {
				t.Errorf("%s imports %s, which docs/design.md's dependency table does not allow", name, imp)
			}
		}
	}
	for name := range allowed {
		if _, ok := pkgs[name]; !ok {
			t.Errorf("the dependency table lists %s, which no longer exists", name)
		}
	}
}

// config checks a snapshot URL; it must not link the S3 client to do so
// (nor any other AWS service: ipsync config runs with no AWS at all).
func TestConfigLinksNoAWSService(t *testing.T) {
	p := listPackages(t)["internal/config"]
	if len(p.Deps) == 0 {
		t.Fatal("no deps listed for internal/config: the listing is broken")
	}
	for _, d := range p.Deps {
		if strings.HasPrefix(d, "github.com/aws/") {
			t.Errorf("internal/config links %s", d)
		}
	}
}

// pure are the packages that decide without I/O: the plan and what a run
// records, the values they work on, and every kind outside its adapter
// (pureKind).
var pure = []string{"internal/admission", "internal/bookkeeping", "internal/desired", "internal/ipset", "internal/plan",
	"internal/policy", "internal/snapshot", "internal/notify", "internal/target"}

// pureKind: a package under internal/target/ but an adapter (<kind>io)
// and restcall, the one JSON call the GCP and Azure adapters share.
func pureKind(name string) bool {
	rest, ok := strings.CutPrefix(name, "internal/target/")
	return ok && !strings.HasSuffix(rest, "io") && rest != "restcall"
}

// No AWS SDK, no net/http, no file or process access: in what they import,
// and in everything they link (the SDK's and net/http only, since the
// standard library links os everywhere).
func TestPurePackagesDoNoIO(t *testing.T) {
	pkgs := listPackages(t)
	checked := 0
	for name, p := range pkgs {
		if !contains(pure, name) && !pureKind(name) {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			switch {
			case imp == "os", imp == "io/ioutil", imp == "net", imp == "net/http", imp == "os/exec", imp == "syscall":
				t.Errorf("%s imports %s: it must do no I/O", name, imp)
			}
		}
		for _, d := range p.Deps {
			if d == "net/http" || strings.HasPrefix(d, "github.com/aws/") {
				t.Errorf("%s depends on %s: it must do no I/O", name, d)
			}
		}
	}
	for _, name := range pure {
		if _, ok := pkgs[name]; !ok {
			t.Errorf("%s no longer exists: update the list of pure packages", name)
		}
	}
	if checked < len(pure)+10 {
		t.Fatalf("checked %d packages: the kinds under internal/target/ were not found", checked)
	}
}

func TestShippedBinariesCarryNoTestCode(t *testing.T) {
	pkgs := listPackages(t)
	shipped := 0
	for name, p := range pkgs {
		if !(strings.HasPrefix(name, "functions/") || name == "cmd/ipsync") {
			continue
		}
		shipped++
		for _, d := range p.Deps {
			for _, banned := range testOnly {
				if d == banned || strings.HasPrefix(d, banned+"/") {
					t.Errorf("%s links %s, which is for tests only", name, d)
				}
			}
		}
	}
	if shipped == 0 {
		t.Fatal("found no shipped binary to check")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestFunctionsLinkOnlyTheServicesTheyCall: each function links exactly the
// AWS SDK services of its SDK floors (infra/coldstart), which list the ones
// it calls; the webhook never links KMS, EC2 or SNS.
func TestFunctionsLinkOnlyTheServicesTheyCall(t *testing.T) {
	pkgs := listPackages(t)
	services := func(name string) []string {
		p, ok := pkgs[name]
		if !ok {
			t.Fatalf("no package %s", name)
		}
		var out []string
		for _, d := range p.Deps {
			if rest, ok := strings.CutPrefix(d, "github.com/aws/aws-sdk-go-v2/service/"); ok && !strings.Contains(rest, "/") {
				out = append(out, rest)
			}
		}
		return out
	}
	for _, fn := range []string{"reconcile", "webhook"} {
		got := services("functions/" + fn)
		for _, floor := range []string{"floor-", "imports-"} {
			want := services("infra/coldstart/" + floor + fn)
			if len(got) == 0 || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("functions/%s links AWS services %v; infra/coldstart/%s%s lists %v", fn, got, floor, fn, want)
			}
		}
	}
	for _, banned := range []string{"kms", "ec2", "sns"} {
		if contains(services("functions/webhook"), banned) {
			t.Errorf("the webhook links service/%s, which it never calls", banned)
		}
	}
	for _, banned := range []string{module + "/internal/reconcile", module + "/internal/notify", module + "/internal/plan", module + "/internal/atlas"} {
		if contains(pkgs["functions/webhook"].Deps, banned) {
			t.Errorf("the webhook links %s", banned)
		}
	}
	// IPSYNC_CONFIG is JSON: a YAML parser would cost every cold start, and
	// so would the SDK's config loader with its credential providers
	// (lambdafn.AWSConfig reads Lambda's environment instead).
	for _, fn := range []string{"functions/reconcile", "functions/webhook", "infra/coldstart/floor-reconcile", "infra/coldstart/floor-webhook",
		"infra/coldstart/imports-reconcile", "infra/coldstart/imports-webhook"} {
		for _, banned := range []string{"gopkg.in/yaml.v3", module + "/internal/configfile", "github.com/aws/aws-sdk-go-v2/config"} {
			if contains(pkgs[fn].Deps, banned) {
				t.Errorf("%s links %s", fn, banned)
			}
		}
	}
}

// A kind is one package (and its adapter) plus its registry entries: in
// production code only the registry (internal/target/kinds) and the
// wiring's table of adapter builders (internal/wire/reconciler, kept apart
// so that config links no service) name a kind's package. Config rules,
// doctor checks and wiring specific to a kind live in the kind.
func TestOnlyTheRegistryNamesAKind(t *testing.T) {
	shared := []string{"entries", "policydoc", "restcall", "kinds"}
	kindOf := func(imp string) string {
		rest, ok := strings.CutPrefix(imp, "internal/target/")
		if !ok {
			return ""
		}
		k, _, _ := strings.Cut(rest, "/")
		if contains(shared, k) {
			return ""
		}
		return k
	}
	registry := []string{"internal/target/kinds", "internal/wire/reconciler"}
	found := 0
	for name, p := range listPackages(t) {
		for _, imp := range internalImports(p) {
			k := kindOf(imp)
			if k == "" {
				continue
			}
			found++
			if own := kindOf(name); own != k && !contains(registry, name) && !contains(helpers, name) {
				t.Errorf("%s imports %s: only the registry names a kind's package; move what it needs into the kind", name, imp)
			}
		}
	}
	if found < 9 {
		t.Fatalf("found %d imports of kinds: the listing is broken", found)
	}
}
