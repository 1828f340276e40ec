package policy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
)

const keyPolicy = `{
  "Version": "2012-10-17",
  "Id": "key-consolepolicy-3",
  "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
    {"Sid": "AtlasIPAllowList", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/atlas"},
     "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"], "Resource": "*",
     "Condition": {"Bool": {"aws:ViaAWSService": "false"}, "IpAddress": {"aws:SourceIp": "192.0.2.0/32"}}},
    {"Sid": "Other", "Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*", "X-Unknown": {"b": 1.50, "a": "\u0041"}}
  ]
}`

func TestReadAndRewrite(t *testing.T) {
	c, err := policy.Read([]byte(keyPolicy), "AtlasIPAllowList")
	if err != nil {
		t.Fatal(err)
	}
	if c.Operator != "IpAddress" || c.Key != "aws:SourceIp" || !slices.Equal(c.Values, []string{"192.0.2.0/32"}) {
		t.Fatalf("read %+v", c)
	}
	out, err := policy.Rewrite([]byte(keyPolicy), "AtlasIPAllowList", []string{"3.92.113.229/32", "3.212.79.116/32"})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		`"IpAddress":{"aws:SourceIp":["3.92.113.229/32","3.212.79.116/32"]}`,
		`"Bool":{"aws:ViaAWSService":"false"}`,
		`"X-Unknown":{"b":1.50,"a":"\u0041"}`, // order, number literal and escape kept
		`{"Version":"2012-10-17","Id":"key-consolepolicy-3","Statement":[{"Sid":"Enable IAM User Permissions"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rewritten policy lacks %s:\n%s", want, s)
		}
	}
	back, err := policy.Read(out, "AtlasIPAllowList")
	if err != nil || !slices.Equal(back.Values, []string{"3.92.113.229/32", "3.212.79.116/32"}) {
		t.Fatalf("read back %+v %v", back, err)
	}
}

func TestLoneStatementObjectAndCaseInsensitiveKey(t *testing.T) {
	doc := `{"Statement":{"Sid":"S","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"AWS:SOURCEIP":["1.1.1.1","2.2.2.2"]}}}}`
	out, err := policy.Rewrite([]byte(doc), "S", []string{"9.9.9.9/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Statement":{"Sid":"S","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"AWS:SOURCEIP":["9.9.9.9/32"]}}}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestOwnershipErrors(t *testing.T) {
	stmt := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"` + cond + `}]}`
	}
	tests := []struct{ name, doc, want string }{
		{"no statement", `{"Version":"2012-10-17"}`, "has no Statement"},
		{"missing sid", strings.Replace(stmt(""), `"Sid":"S"`, `"Sid":"T"`, 1), "no statement has this Sid"},
		{"two with the sid", `{"Statement":[{"Sid":"S","Condition":{"IpAddress":{"aws:SourceIp":"1.1.1.1"}}},{"Sid":"S"}]}`, "two statements carry this Sid"},
		{"no condition", stmt(""), "has no Condition"},
		{"no IP condition", stmt(`,"Condition":{"StringEquals":{"aws:PrincipalAccount":"1"}}`), "has no IP condition"},
		{"two IP keys", stmt(`,"Condition":{"IpAddress":{"aws:SourceIp":"1.1.1.1","aws:VpcSourceIp":"10.0.0.1"}}`), "2 IP condition keys"},
		{"IP keys under two operators", stmt(`,"Condition":{"IpAddress":{"aws:SourceIp":"1.1.1.1"},"NotIpAddress":{"aws:SourceIp":"2.2.2.2"}}`), "2 IP condition keys"},
		{"unsupported operator", stmt(`,"Condition":{"IpAddressIfExists":{"aws:SourceIp":"1.1.1.1"}}`), "operator IpAddressIfExists"},
		{"values not strings", stmt(`,"Condition":{"IpAddress":{"aws:SourceIp":[1,2]}}`), "string or an array of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.Read([]byte(tt.doc), "S")
			var oe *policy.OwnershipError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want OwnershipError with %q", err, tt.want)
			}
			if _, err := policy.Rewrite([]byte(tt.doc), "S", []string{"1.1.1.1/32"}); err == nil {
				t.Fatal("Rewrite accepted what Read refused")
			}
		})
	}
}

func TestMalformedDocuments(t *testing.T) {
	for _, doc := range []string{``, `[]`, `{"Statement":[]`, `{"a":1,"a":2}`, `{"Statement":[{"Sid":"S","Sid":"S"}]}`, `{} {}`, `{"Statement":[1]}`} {
		if _, err := policy.Read([]byte(doc), "S"); err == nil {
			t.Errorf("accepted %q", doc)
		}
	}
}

func TestRender(t *testing.T) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(keyPolicy)); err != nil {
		t.Fatal(err)
	}
	compact := buf.Bytes()
	r, err := policy.Render(compact, kmspolicy.Limit)
	if err != nil || r.Form != "indented" || !bytes.Contains(r.Text, []byte("\n  \"Statement\"")) {
		t.Fatalf("render %s %v", r.Form, err)
	}
	// Between the two sizes: compact.
	lim := policy.Limit{Name: "test", Max: len(compact) + 1}
	if r, err := policy.Render(compact, lim); err != nil || r.Form != "compact" || r.Size != len(compact) {
		t.Fatalf("render %q %d %v", r.Form, r.Size, err)
	}
	// Below compact: refused.
	lim.Max = len(compact) - 1
	var se *policy.SizeError
	if _, err := policy.Render(compact, lim); !errors.As(err, &se) || se.Compact != len(compact) {
		t.Fatalf("render %v", err)
	}
	// Characters, not bytes, for VPC endpoint policies.
	multi := []byte(`{"Statement":[{"Sid":"é"}]}`)
	if n := vpcepolicy.Limit.Size(multi); n != len(multi)-1 {
		t.Fatalf("chars %d, bytes %d", n, len(multi))
	}
}

// tb is what both *testing.T and *rapid.T offer.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// The corpus: 1,641 real AWS managed policies.
var (
	corpusOnce sync.Once
	corpus     []json.RawMessage
	corpusErr  error
)

func loadCorpus(t testing.TB) []json.RawMessage {
	t.Helper()
	corpusOnce.Do(func() {
		f, err := os.Open(filepath.Join("..", "..", "testdata", "corpora", "aws-managed-policies.jsonl"))
		if err != nil {
			corpusErr = err
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			var line struct {
				Document json.RawMessage `json:"document"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				corpusErr = err
				return
			}
			corpus = append(corpus, line.Document)
		}
		corpusErr = sc.Err()
	})
	if corpusErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus: %v", corpusErr)
		}
		t.Skipf("corpus not available: %v", corpusErr)
	}
	return corpus
}

// withOwned inserts an owned statement at position pos of doc's statements.
func withOwned(t tb, doc json.RawMessage, pos int, owned string) ([]byte, []any) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatal(err)
	}
	var stmts []json.RawMessage
	if err := json.Unmarshal(top["Statement"], &stmts); err != nil {
		stmts = []json.RawMessage{top["Statement"]}
	}
	pos = pos % (len(stmts) + 1)
	others := make([]any, len(stmts))
	for i, s := range stmts {
		_ = json.Unmarshal(s, &others[i])
	}
	stmts = slices.Insert(stmts, pos, json.RawMessage(owned))
	newStmts, _ := json.Marshal(stmts)
	// Keep the document's own key order: replace the Statement value textually.
	var b bytes.Buffer
	b.WriteString(`{"Version":"2012-10-17","Statement":`)
	b.Write(newStmts)
	b.WriteString(`}`)
	return b.Bytes(), others
}

func statementsOf(t tb, doc []byte) []any {
	var top struct{ Statement []any }
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatalf("output is not valid JSON: %v", err)
	}
	return top.Statement
}

func ownedStatement(sid, op, key string, values []string, asString bool) string {
	var v []byte
	if asString && len(values) == 1 {
		v, _ = json.Marshal(values[0])
	} else {
		v, _ = json.Marshal(values)
	}
	return fmt.Sprintf(`{"Sid":%q,"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/atlas"},"Action":"kms:Decrypt","Resource":"*","Condition":{%q:{%q:%s}}}`, sid, op, key, v)
}

// checkRewrite is the property: everything but the owned statement is
// JSON-equal and in order, rewriting twice equals once, and what was written
// reads back.
func checkRewrite(t tb, doc []byte, others []any, pos int, sid string, values []string, lim policy.Limit) {
	out, err := policy.Rewrite(doc, sid, values)
	if err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	got := statementsOf(t, out)
	if len(got) != len(others)+1 {
		t.Fatalf("%d statements out, want %d", len(got), len(others)+1)
	}
	rest := slices.Delete(slices.Clone(got), pos, pos+1)
	for i := range rest {
		if !reflect.DeepEqual(rest[i], others[i]) {
			t.Fatalf("statement %d changed:\n got %v\nwant %v", i, rest[i], others[i])
		}
	}
	again, err := policy.Rewrite(out, sid, values)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("rewriting twice differs from once (%v)", err)
	}
	back, err := policy.Read(out, sid)
	if err != nil || !slices.Equal(back.Values, values) {
		t.Fatalf("read back %v %v, want %v", back.Values, err, values)
	}
	r, err := policy.Render(out, lim)
	var se *policy.SizeError
	switch {
	case err == nil:
		if r.Size > lim.Max {
			t.Fatalf("rendered %d over the limit %d", r.Size, lim.Max)
		}
		var a, b any
		_ = json.Unmarshal(r.Text, &a)
		_ = json.Unmarshal(out, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("rendering changed the meaning")
		}
	case errors.As(err, &se):
		if lim.Size(out) <= lim.Max {
			t.Fatalf("refused a document that fits compact: %v", err)
		}
	default:
		t.Fatalf("render: %v", err)
	}
}

// TestCorpusEveryDocument rewrites an owned statement inserted in the middle
// of every real policy.
func TestCorpusEveryDocument(t *testing.T) {
	docs := loadCorpus(t)
	if len(docs) != 1641 {
		t.Fatalf("corpus has %d documents, want 1641", len(docs))
	}
	refused := 0
	for i, d := range docs {
		owned := ownedStatement("AtlasIPAllowList", "IpAddress", "aws:SourceIp", []string{"192.0.2.0/32"}, true)
		doc, others := withOwned(t, d, len(d), owned)
		pos := len(d) % (len(others) + 1)
		values := []string{"3.92.113.229/32", fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}
		checkRewrite(t, doc, others, pos, "AtlasIPAllowList", values, kmspolicy.Limit)
		if len(doc) > kmspolicy.Limit.Max {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no corpus document exceeded 32 KB: the size rule went untested")
	}
}

func TestPropRewrite(t *testing.T) {
	docs := loadCorpus(t)
	rapid.Check(t, func(rt *rapid.T) {
		d := docs[rapid.IntRange(0, len(docs)-1).Draw(rt, "doc")]
		op := rapid.SampledFrom([]string{"IpAddress", "NotIpAddress"}).Draw(rt, "op")
		key := rapid.SampledFrom([]string{"aws:SourceIp", "aws:VpcSourceIp", "AWS:SourceIP"}).Draw(rt, "key")
		sid := rapid.StringMatching(`[A-Za-z0-9]{1,20}`).Draw(rt, "sid")
		n := rapid.IntRange(0, 30).Draw(rt, "n")
		values := make([]string, n)
		for i := range values {
			values[i] = fmt.Sprintf("%d.%d.%d.%d/32", rapid.IntRange(1, 223).Draw(rt, "a"), rapid.IntRange(0, 255).Draw(rt, "b"), rapid.IntRange(0, 255).Draw(rt, "c"), rapid.IntRange(0, 255).Draw(rt, "d"))
		}
		old := []string{"192.0.2.1"}
		owned := ownedStatement("ipsync-"+sid, op, key, old, rapid.Bool().Draw(rt, "asString"))
		pos := rapid.IntRange(0, 1000).Draw(rt, "pos")
		doc, others := withOwned(rt, d, pos, owned)
		pos = pos % (len(others) + 1)
		lim := rapid.SampledFrom([]policy.Limit{kmspolicy.Limit, vpcepolicy.Limit}).Draw(rt, "limit")
		checkRewrite(rt, doc, others, pos, "ipsync-"+sid, values, lim)
	})
}

func FuzzRewrite(f *testing.F) {
	f.Add([]byte(keyPolicy), "AtlasIPAllowList")
	f.Add([]byte(`{"Statement":{"Sid":"S","Condition":{"IpAddress":{"aws:SourceIp":"1.1.1.1"}}}}`), "S")
	f.Fuzz(func(t *testing.T, doc []byte, sid string) {
		c, err := policy.Read(doc, sid)
		if err != nil {
			return
		}
		out, err := policy.Rewrite(doc, sid, []string{"203.0.113.0/24"})
		if err != nil {
			t.Fatalf("Read accepted but Rewrite refused: %v", err)
		}
		back, err := policy.Read(out, sid)
		if err != nil || !slices.Equal(back.Values, []string{"203.0.113.0/24"}) || back.Operator != c.Operator || back.Key != c.Key {
			t.Fatalf("read back %+v %v", back, err)
		}
		if !json.Valid(out) {
			t.Fatal("rewrite produced invalid JSON")
		}
	})
}
