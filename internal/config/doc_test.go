package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Every key the decoder accepts is listed in docs/configuration.md, as
// `atlas.credentials.secretId`, `targets[].sid` or `targetDefaults.TYPE.sid`.
func TestConfigurationDocCoversEveryKey(t *testing.T) {
	_, doc := fullDocument(t)
	var back Config
	if err := decode(doc, &back); err != nil {
		t.Fatalf("the decoder refuses a full document: %v", err) // so every key below is one it accepts
	}
	var tree map[string]any
	if err := json.Unmarshal(doc, &tree); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if prefix == "targetDefaults" {
					k = "TYPE" // a map by target type
				}
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				if m, ok := e.(map[string]any); ok {
					walk(p, m)
					continue
				}
				if l, ok := e.([]any); ok && len(l) > 0 {
					if _, objects := l[0].(map[string]any); objects {
						walk(p+"[]", l[0])
						continue
					}
				}
				keys = append(keys, p)
			}
		}
	}
	walk("", tree)
	sort.Strings(keys)
	if len(keys) < 25 {
		t.Fatalf("found only %d keys: the walk is broken (%v)", len(keys), keys)
	}
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.Contains(string(page), "`"+k+"`") {
			t.Errorf("docs/configuration.md does not list `%s`", k)
		}
	}
}
