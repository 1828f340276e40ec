#!/usr/bin/env bash
# Sizes of the function binaries as deployed (linux/arm64, stripped, the
# Makefile's flags) and, from an unstripped build, the packages that weigh
# most: the sizes of their code (text symbols, go tool nm), summed per
# package, AWS SDK services and core counted apart.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for fn in reconcile webhook; do
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o "$tmp/$fn" ./functions/$fn
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -o "$tmp/$fn.full" ./functions/$fn
  bytes=$(stat -c %s "$tmp/$fn")
  printf '%s: %d bytes (%.2f MB) stripped, linux/arm64; code bytes by package:\n' "$fn" "$bytes" "$(echo "$bytes/1000000" | bc -l)"
  go tool nm -size "$tmp/$fn.full" | awk '
    $3 != "T" && $3 != "t" { next }
    { size=$2; name=$4; if (name=="") next
      sub(/^type:/, "", name); sub(/^go:/, "", name)
      # the package is the symbol up to the first "." after the last "/"
      n=split(name, parts, "/"); last=parts[n]; dot=index(last, ".")
      pkg=name; if (dot>0) pkg=substr(name, 1, length(name)-length(last)+dot-1)
      if (pkg ~ /^github.com\/aws\/aws-sdk-go-v2\/service\/[a-z0-9]+/) { match(pkg, /^github.com\/aws\/aws-sdk-go-v2\/service\/[a-z0-9]+/); pkg=substr(pkg,1,RLENGTH) }
      else if (pkg ~ /^github.com\/aws\/aws-sdk-go-v2/) pkg="github.com/aws/aws-sdk-go-v2 (core)"
      else if (pkg ~ /^github.com\/atlas-ip-sync/) pkg="atlas-ip-sync (this project)"
      else if (pkg !~ /\./) pkg="Go standard library and runtime"
      sum[pkg]+=size }
    END { for (p in sum) printf "%10d  %s\n", sum[p], p }' | sort -rn | awk 'NR <= 8 { print "    " $0 }'
done
