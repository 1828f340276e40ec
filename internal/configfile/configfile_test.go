package configfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
)

// designExample is the config of docs/design.md, as a user would copy it.
const designExample = `
atlas:
  baseURL: https://cloud.mongodb.com
  credentials:
    secretId: arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/atlas-AbCdEf
  projects: ["5aec7afbf7d068e35a39809b"]
snapshot:
  url: s3://bucket/ipsync/snapshot.json
notify:
  topicArn: arn:aws:sns:us-east-1:111122223333:ipsync-alerts
trigger:
  queueUrl: https://sqs.us-east-1.amazonaws.com/111122223333/ipsync-triggers.fifo
webhook:
  secretId: arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/webhook-AbCdEf
guards:
  minAddresses: 1
  maxRemovePercent: 30
  removalGrace: 24h
targets:
  - name: atlas-ear-key
    type: kms-key-policy
    resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    sid: AtlasIPAllowList
    sources: [control-plane-outbound, nodes]
    static: ["198.51.100.7/32"]
  - name: kms-endpoint
    type: vpc-endpoint-policy
    resource: vpce-0a1b2c3d4e5f67890
    sid: AtlasNodes
    sources: [nodes]
`

func TestDesignExampleParses(t *testing.T) {
	c, err := configfile.Parse([]byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Targets) != 2 || c.Targets[0].Sources[1].Kind != config.SourceNodes {
		t.Fatalf("targets = %+v", c.Targets)
	}
	if time.Duration(c.Guards.RemovalGrace) != 24*time.Hour || c.Guards.MaxRemovePercent != 30 {
		t.Fatalf("guards = %+v", c.Guards)
	}
}

func TestDefaults(t *testing.T) {
	c, err := configfile.Parse([]byte(`
targets:
  - name: k
    type: kms-key-policy
    resource: 1234abcd-12ab-34cd-56ef-1234567890ab
    sid: AtlasIPAllowList
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Atlas.BaseURL != "https://cloud.mongodb.com" || c.Snapshot.URL != "file://.ipsync/snapshot.json" {
		t.Errorf("defaults: %+v %+v", c.Atlas, c.Snapshot)
	}
	if c.Atlas.Concurrency != 16 {
		t.Errorf("default concurrency %d", c.Atlas.Concurrency)
	}
	if c.Guards.MinAddresses != 1 || c.Guards.MaxRemovePercent != 30 || time.Duration(c.Guards.RemovalGrace) != 24*time.Hour {
		t.Errorf("guard defaults: %+v", c.Guards)
	}
	if len(c.Targets[0].Sources) != 1 || c.Targets[0].Sources[0].String() != "control-plane-outbound" {
		t.Errorf("KMS default sources: %v", c.Targets[0].Sources)
	}
}

func TestTargetNameDefaultsToTheResourceID(t *testing.T) {
	c, err := configfile.Parse([]byte(`{"atlas":{"projects":["5aec7afbf7d068e35a39809b"]},"targets":[
	  {"type":"kms-key-policy","resource":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","sid":"S"},
	  {"type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d4e5f67890","sid":"S","sources":["nodes"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Targets[0].Name != "1234abcd-12ab-34cd-56ef-1234567890ab" || c.Targets[1].Name != "vpce-0a1b2c3d4e5f67890" {
		t.Fatalf("names %q %q", c.Targets[0].Name, c.Targets[1].Name)
	}
}

func TestTargetDefaults(t *testing.T) {
	c, err := configfile.Parse([]byte(`{"atlas":{"projects":["5aec7afbf7d068e35a39809b"]},
	  "targetDefaults":{"kms-key-policy":{"sid":"K","sources":["control-plane-outbound","nodes-outbound"]},"vpc-endpoint-policy":{"sid":"E","sources":["nodes"]}},
	  "targets":[{"type":"kms-key-policy","resource":"1234abcd-12ab-34cd-56ef-1234567890ab"},
	             {"type":"kms-key-policy","resource":"2234abcd-12ab-34cd-56ef-1234567890ab","sid":"Own","sources":["control-plane-inbound"]},
	             {"type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d4e5f67890"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %v | %s %v | %s %v", c.Targets[0].Sid, c.Targets[0].Sources, c.Targets[1].Sid, c.Targets[1].Sources, c.Targets[2].Sid, c.Targets[2].Sources)
	if got != "K [control-plane-outbound nodes-outbound] | Own [control-plane-inbound] | E [nodes]" {
		t.Fatalf("got %s", got)
	}
	if _, err := configfile.Parse([]byte(`{"targetDefaults":{"iam-role":{"sid":"x"}}}`)); err == nil || !strings.Contains(err.Error(), "not a target type") {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestJSONConfig(t *testing.T) {
	c, err := configfile.Parse([]byte(`{"atlas":{"projects":["5aec7afbf7d068e35a39809b"]},
	  "targets":[{"name":"e","type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d4e5f67890","sid":"S","sources":["nodes-outbound","control-plane-outbound:aws/us-east-1"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Targets[0].Sources[1]
	if s.Kind != config.SourceControlPlaneOutbound || s.Provider != "aws" || s.Region != "us-east-1" {
		t.Fatalf("source = %+v", s)
	}
}

func TestInvalidConfigs(t *testing.T) {
	kms := func(extra string) string {
		return "targets:\n  - name: k\n    type: kms-key-policy\n    resource: 1234abcd-12ab-34cd-56ef-1234567890ab\n    sid: S\n" + extra
	}
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"empty", ``, []string{"empty document"}},
		{"unknown top-level key", "atlass: {}\n", []string{`unknown key "atlass" (line 1)`}},
		{"duplicate guard", "guards:\n  maxRemovePercent: 30\n  maxRemovePercent: 100\n", []string{`line 3: key "maxRemovePercent" appears twice (first on line 2)`}},
		{"unknown nested key", "guards:\n  minAdresses: 2\n", []string{`unknown key "guards.minAdresses" (line 2)`}},
		{"bad project id", "atlas:\n  projects: [\"abc\"]\n", []string{`"abc" is not a project id`}},
		{"concurrency out of range", "atlas:\n  concurrency: 100\n", []string{"atlas.concurrency 100"}},
		{"duplicate project", "atlas:\n  projects: [\"5aec7afbf7d068e35a39809b\", \"5aec7afbf7d068e35a39809b\"]\n", []string{"listed twice"}},
		{"http base URL off loopback", "atlas:\n  baseURL: http://cloud.mongodb.com\n", []string{"only allowed to a loopback"}},
		{"base URL with path", "atlas:\n  baseURL: https://cloud.mongodb.com/api\n", []string{"want https://host"}},
		{"bad snapshot URL", "snapshot:\n  url: /tmp/s.json\n", []string{"snapshot.url"}},
		{"bad topic ARN", "notify:\n  topicArn: ipsync-alerts\n", []string{"notify.topicArn"}},
		{"minAddresses 0", "guards:\n  minAddresses: 0\n", []string{"at least 1"}},
		{"maxRemovePercent over 100", "guards:\n  maxRemovePercent: 150\n", []string{"maxRemovePercent"}},
		{"bad duration", "guards:\n  removalGrace: a day\n", []string{"not a duration"}},
		{"bad KMS ARN", strings.Replace(kms(""), "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:111122223333:alias/atlas", 1), []string{"want a KMS key ARN"}},
		{"bad vpce id", "targets:\n  - {name: e, type: vpc-endpoint-policy, resource: vpc-123, sid: S, sources: [nodes]}\natlas: {projects: [\"5aec7afbf7d068e35a39809b\"]}\n", []string{"want a VPC endpoint id"}},
		{"unknown type", "targets:\n  - {name: e, type: iam-role, resource: r, sid: S, static: [\"1.1.1.1\"]}\n", []string{`type "iam-role"`}},
		{"bad static CIDR", kms("    static: [\"10.0.0.0/33\"]\n"), []string{`targets[0].static[0] (target "k"): "10.0.0.0/33"`}},
		{"missing sid", strings.Replace(kms(""), "sid: S", "sid: \"\"", 1), []string{"sid is required"}},
		{"bad source", kms("    sources: [control-plane]\n"), []string{`source "control-plane"`}},
		{"narrowed node source", kms("    sources: [\"nodes:aws\"]\n"), []string{"cannot be narrowed"}},
		{"nodes without projects", kms("    sources: [nodes]\n"), []string{"needs atlas.projects"}},
		{"duplicate target names", kms("") + "  - {name: k, type: vpc-endpoint-policy, resource: vpce-0a1b2c3d4e5f67890, sid: X, static: [\"1.1.1.1\"]}\n", []string{"name used by two targets"}},
		{"sid shared on one resource", kms("") + "  - {name: k2, type: kms-key-policy, resource: 1234abcd-12ab-34cd-56ef-1234567890ab, sid: S}\n", []string{`already owned by target "k"`}},
		{"nothing to allow", "targets:\n  - {name: e, type: vpc-endpoint-policy, resource: vpce-0a1b2c3d4e5f67890, sid: S}\n", []string{"nothing to allow"}},
		{"two documents", "atlas: {}\n---\natlas: {}\n", []string{"more than one document"}},
		{"every problem at once", "atlas:\n  projects: [x]\nguards:\n  minAddresses: 0\n", []string{`"x" is not a project id`, "at least 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configfile.Parse([]byte(tt.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]string{
		"control-plane-outbound":                "control-plane-outbound",
		"control-plane-outbound:aws":            "control-plane-outbound:aws",
		"control-plane-inbound:gcp/us-central1": "control-plane-inbound:gcp/us-central1",
		"gateways-inbound":                      "gateways-inbound",
		"nodes-outbound":                        "nodes-outbound",
	} {
		s, err := config.ParseSource(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseSource(%q) = %v, %v", in, s, err)
		}
	}
	for _, in := range []string{"", "nodes:aws", "control-plane-outbound:", "control-plane-outbound:aws/", "control-plane-outbound:a b", "everything"} {
		if _, err := config.ParseSource(in); err == nil {
			t.Errorf("ParseSource(%q) accepted", in)
		}
	}
}

func FuzzParseYAML(f *testing.F) {
	f.Add([]byte(designExample))
	f.Add([]byte(`{"targets":[{"name":"e","type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d","sid":"S","static":["1.1.1.1"]}]}`))
	f.Add([]byte("guards:\n  removalGrace: 1h\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := configfile.Parse(b)
		if err != nil {
			return
		}
		// Whatever is accepted honours the guard floor and has valid targets.
		if c.Guards.MinAddresses < 1 || c.Atlas.BaseURL == "" || c.Snapshot.URL == "" {
			t.Fatalf("accepted an unsafe config: %+v", c)
		}
		for _, tg := range c.Targets {
			if tg.Sid == "" || (len(tg.Sources) == 0 && len(tg.Static) == 0) {
				t.Fatalf("accepted a target with nothing to own: %+v", tg)
			}
		}
	})
}

// A YAML config and its JSON twin give the same config: one set of rules.
func TestYAMLAndJSONAgree(t *testing.T) {
	fromYAML, err := configfile.Parse([]byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := configfile.ToJSON([]byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := config.Parse(doc.JSON)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc.JSON)
	}
	a, _ := config.Marshal(fromYAML)
	b, _ := config.Marshal(fromJSON)
	if string(a) != string(b) || !strings.Contains(string(a), `"sources":["control-plane-outbound","nodes"]`) {
		t.Fatalf("YAML gave\n%s\nJSON gave\n%s", a, b)
	}
}

func TestYAMLScalars(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"number for a string", "targets:\n  - name: k\n    sid: 123\n", "targets[0].sid: want a string, got a JSON number (line 3)"},
		{"string for a number", "guards:\n  minAddresses: many\n", "guards.minAddresses: want a number, got a JSON string (line 2)"},
		{"infinite number", "guards:\n  maxRemovePercent: .inf\n", `line 2: ".inf" is not a finite number`},
		{"merge key", "base: &b {sid: S}\ntargets:\n  - <<: *b\n", "merge keys"},
		{"non-string key", "? [a]\n: 1\n", "a key must be a plain string"},
		{"null document", "~\n", "empty document"},
		{"YAML syntax", "atlas: [\n", "config: yaml:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configfile.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// An unknown key is refused even when it only holds an anchor.
	if _, err := configfile.Parse([]byte("x-key: &key 1234abcd-12ab-34cd-56ef-1234567890ab\n")); err == nil || !strings.Contains(err.Error(), `unknown key "x-key" (line 1)`) {
		t.Fatalf("unknown anchor key: %v", err)
	}
	// An unquoted date-like value where text belongs stays the text
	// written, and aliases resolve.
	c, err := configfile.Parse([]byte("targetDefaults: {kms-key-policy: {sid: &sid Owned}}\ntargets:\n  - {name: 2026-01-01, type: kms-key-policy, resource: 1234abcd-12ab-34cd-56ef-1234567890ab, sid: *sid}\n"))
	if err != nil || c.Targets[0].Name != "2026-01-01" || c.Targets[0].Sid != "Owned" {
		t.Fatalf("date-like name, alias: %+v %v", c, err)
	}
}

func TestLoad(t *testing.T) {
	if _, err := configfile.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Fatalf("missing file: %v", err)
	}
	p := filepath.Join(t.TempDir(), "ipsync.yaml")
	if err := os.WriteFile(p, []byte("guards:\n  minAddresses: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := configfile.Load(p); err == nil || !strings.Contains(err.Error(), p+": ") || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("bad file: %v", err)
	}
}
