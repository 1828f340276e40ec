package archtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The vulnerability check make test runs (infra/vuln.sh) must be able to
// fail: on a scratch module that calls a known-vulnerable function
// (golang.org/x/text v0.3.5's language.Parse, GO-2021-0113) it exits
// non-zero and names the finding, with the offline database.
func TestVulnCheckFindsAKnownVulnerableCall(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads a module and runs govulncheck")
	}
	root := testenv.RepoRoot(t)
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module scratch\n\ngo 1.26.0\n\nrequire golang.org/x/text v0.3.5\n")
	write("main.go", `package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() {
	t, err := language.Parse("en-US")
	fmt.Println(t, err)
}
`)
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "IPSYNC_VULNDB=offline")
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir, tidy.Env = dir, env
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy in the scratch module (needs the module proxy): %v\n%s", err, out)
	}
	check := exec.Command("bash", filepath.Join(root, "infra", "vuln.sh"), dir)
	check.Env = env
	out, err := check.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GO-2021-0113") || !strings.Contains(string(out), "offline database") {
		t.Fatalf("the check passed, or did not name GO-2021-0113 and its database: %v\n%s", err, out)
	}
}
