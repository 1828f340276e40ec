package main

import (
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/lambdafn"
)

// `ipsync config` turns a YAML config into the JSON the functions read, and
// the functions' loader accepts it unchanged.
func TestConfigCommandPrintsWhatTheFunctionsRead(t *testing.T) {
	p := writeConfig(t, `
atlas:
  projects: ["5aec7afbf7d068e35a39809b"]
guards:
  removalGrace: 90m
targets:
  - {type: kms-key-policy, resource: 1234abcd-12ab-34cd-56ef-1234567890ab, sid: AtlasIPAllowList}
`)
	r := ipsync(t, nil, "config", "--config", p)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	c, err := lambdafn.LoadConfig(func(string) string { return r.stdout })
	if err != nil {
		t.Fatalf("the functions refuse it: %v\n%s", err, r.stdout)
	}
	if c.Targets[0].Name != "1234abcd-12ab-34cd-56ef-1234567890ab" || time.Duration(c.Guards.RemovalGrace) != 90*time.Minute || c.Atlas.Concurrency != 16 {
		t.Fatalf("config %+v", c)
	}

	bad := ipsync(t, nil, "config", "--config", writeConfig(t, "guards:\n  minAdresses: 2\n"))
	if bad.code != 1 || bad.stdout != "" || !strings.Contains(bad.stderr, `unknown key "guards.minAdresses" (line 2)`) {
		t.Fatalf("bad config: exit %d, %q, %s", bad.code, bad.stdout, bad.stderr)
	}
}
