// Package testenv starts and finds what the test suite needs: the shared
// reference material and a moto_server for AWS. Outside CI a missing
// component skips the test with the reason; with CI=true it fails it, so a
// green CI always means the tests ran.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether CI=true: missing components are failures there.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test: a failure in CI, a skip elsewhere.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("required test component missing (CI=true): "+format, args...)
	}
	tb.Skipf("test component missing: "+format, args...)
}

// RepoRoot is the directory holding go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || len(out) < 2 {
		tb.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(string(out[:len(out)-1]))
}

// Testdata is the repository's testdata/ directory: the reference data
// the tests read, vendored with its provenance (testdata/README.md).
func Testdata(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(RepoRoot(tb), "testdata")
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		Missing(tb, "reference data at %s: %v", dir, err)
	}
	return dir
}

// ReadEvent reads a sample Lambda event from the repository's events/, for
// a test of a package two levels below the root (internal/<name>).
func ReadEvent(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		tb.Fatalf("read event %s: %v", name, err)
	}
	return b
}

// ReadTestdata reads a file below testdata/.
func ReadTestdata(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Testdata(tb), rel))
	if err != nil {
		tb.Fatalf("read testdata %s: %v", rel, err)
	}
	return b
}
