package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Every vendored file is listed in testdata/README.md with its sha256, and
// matches it; where ../shared is beside the repository, each matches its
// source there too, so a vendored copy cannot drift from the reference.
func TestTestdataProvenance(t *testing.T) {
	dir := Testdata(t)
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|.*\\| `([0-9a-f]{64})` \\|$")
	listed := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		listed[m[1]] = m[2]
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || p == filepath.Join(dir, "README.md") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 || len(files) != len(listed) {
		t.Fatalf("testdata holds %d files, README lists %d: %v", len(files), len(listed), files)
	}
	shared := filepath.Join(RepoRoot(t), "..", "shared")
	_, err = os.Stat(shared)
	haveShared := err == nil
	for _, rel := range files {
		want, ok := listed[rel]
		if !ok {
			t.Errorf("%s is not listed in testdata/README.md", rel)
			continue
		}
		if got := digest(t, filepath.Join(dir, rel)); got != want {
			t.Errorf("%s: sha256 %s, README says %s", rel, got, want)
		}
		if haveShared {
			if got := digest(t, filepath.Join(shared, rel)); got != want {
				t.Errorf("%s differs from ../shared/%s (sha256 %s)", rel, rel, got)
			}
		}
	}
	if !haveShared {
		t.Log("no ../shared beside the repository: checked the README's digests only")
	}
}

func digest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
