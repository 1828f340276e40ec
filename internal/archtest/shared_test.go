package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A clone without ../shared passes its tests: nothing but the provenance
// check reads ../shared; the reference data is vendored in testdata/.
func TestNoTestReadsShared(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := filepath.Join("internal", "testenv", "testdata_test.go")
	checked := 0
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == ".git" || e.Name() == "testdata" || e.Name() == ".venv") {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if rel == allowed || rel == filepath.Join("internal", "archtest", "shared_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		checked++
		if s := string(b); strings.Contains(s, `"shared"`) || strings.Contains(s, "../shared") {
			t.Errorf("%s reads ../shared: vendor what it needs into testdata/", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d Go files: the walk is broken", checked)
	}
}
