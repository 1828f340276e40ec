package policy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
)

// IAM does not count white space: every corpus document measures the same
// compact and indented, and no less than its non-space characters.
func TestNoSpaceSizeIgnoresLayout(t *testing.T) {
	docs := loadCorpus(t)
	if len(docs) < 1000 {
		t.Fatalf("corpus has %d documents", len(docs))
	}
	for i, d := range docs {
		var compact, indented bytes.Buffer
		if err := json.Compact(&compact, d); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&indented, compact.Bytes(), "", "    "); err != nil {
			t.Fatal(err)
		}
		c, n := iamrolepolicy.Limit.Size(compact.Bytes()), iamrolepolicy.Limit.Size(indented.Bytes())
		if c != n || c > vpcepolicy.Limit.Size(compact.Bytes()) {
			t.Fatalf("document %d: compact %d, indented %d, characters %d", i, c, n, vpcepolicy.Limit.Size(compact.Bytes()))
		}
	}
	// Spaces inside strings count; escaped quotes do not end a string.
	if got := iamrolepolicy.Limit.Size([]byte(`{ "a b": "c\" d" }`)); got != len(`{"a b":"c\" d"}`) {
		t.Fatalf("size %d", got)
	}
}

// Every example policy in infra/policies parses and has its owned statement.
func TestExamplePolicies(t *testing.T) {
	for file, sid := range map[string]string{"kms-key-policy.json": "AtlasIPAllowList", "vpc-endpoint-policy.json": "AtlasNodes", "iam-role-policy.json": "AtlasIPAllowList"} {
		doc, err := os.ReadFile(filepath.Join("..", "..", "infra", "policies", file))
		if err != nil {
			t.Fatal(err)
		}
		c, err := policy.Read(doc, sid)
		if err != nil || len(c.Values) != 1 || c.Values[0] != "192.0.2.0/32" {
			t.Errorf("%s: %+v %v", file, c, err)
		}
	}
}
