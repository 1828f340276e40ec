#!/usr/bin/env bash
# make bench: run the benchmarks and write BENCHMARKS.md with the command,
# the date and the machine, so every figure names what produced it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="go test -run '^\$' -bench . -benchmem -count 5 ./internal/..."
echo "\$ $cmd"
out=$(eval "$cmd" 2>&1 | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' )
echo "$out"
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (infra/bench.sh). Do not edit by hand: run it again."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- $(go version)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB"
  echo "- command: \`$cmd\`"
  echo
  echo "| benchmark | goal | what it measures |"
  echo "| --- | --- | --- |"
  echo "| BenchmarkAggregate10k | none set yet (issue 2 asks that it exists and is recorded) | aggregate 10,000 random CIDRs (90 % IPv4 /24–/32, 10 % IPv6 /64–/128, fixed seed) to the minimal set |"
  echo
  echo '```'
  echo "$out"
  echo '```'
} > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
