#!/usr/bin/env bash
# Known vulnerabilities in the code the binaries call (govulncheck), and the
# module cache against go.sum (go mod verify). Usage: infra/vuln.sh [MODULE_DIR]
#
# The database is https://vuln.go.dev where it answers; where it does not
# (these machines), the offline snapshot vendored in
# testdata/vulndb/govulndb.tar.gz (provenance in testdata/README.md). Set
# IPSYNC_VULNDB=offline to use the snapshot anyway. The script says which
# database it used and how new it is; any failure to run the check is a
# failure, never a skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(cd "${1:-$root}" && pwd)"
cd "$root"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

db=""
if [ "${IPSYNC_VULNDB:-auto}" != offline ] &&
	curl -fsS --max-time 5 -o "$tmp/db.json" https://vuln.go.dev/index/db.json 2>/dev/null; then
	echo "vuln: database https://vuln.go.dev, modified $(sed -n 's/.*"modified":"\([^"]*\)".*/\1/p' "$tmp/db.json")"
else
	tar -xzf testdata/vulndb/govulndb.tar.gz -C "$tmp"
	db="file://$tmp/govulndb"
	echo "vuln: https://vuln.go.dev unreachable or not wanted; offline database testdata/vulndb (golang/vulndb a752ea54), modified $(sed -n 's/.*"modified":"\([^"]*\)".*/\1/p' "$tmp/govulndb/index/db.json")"
fi

(cd "$dir" && go mod verify)
if [ -n "$db" ]; then
	go tool govulncheck -C "$dir" -db "$db" ./...
else
	go tool govulncheck -C "$dir" ./...
fi
