#!/usr/bin/env bash
# make fuzz: run every fuzz target for the given time (default 60s). A finding
# is written under the package's testdata/fuzz/ and fails the run: commit it,
# it becomes a regression test that `make test` runs from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $target ($time)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$time" "$pkg" || status=1
  done
done
exit $status
