#!/usr/bin/env bash
# make bench: run the benchmarks and write BENCHMARKS.md with the command,
# the date and the machine, so every figure names what produced it.
# BenchmarkNoOpRun starts moto_server itself, like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cmds=(
  "go test -run '^\$' -bench Aggregate10k -benchmem -count 5 ./internal/ipset/"
  "go test -run '^\$' -bench Plan10kx100 -benchmem -benchtime 3x -count 3 ./internal/plan/"
  "go test -run '^\$' -bench NoOpRun -benchmem -benchtime 20x -count 3 ./internal/reconcile/"
  "go test -run '^\$' -bench PolicyCapacity -benchtime 3x ./internal/policy/"
  "go test -run '^\$' -bench ColdStart -benchtime 1x -count 3 ./infra/coldstart/"
  "COLDSTART_STARTS=150 go test -run '^\$' -bench ColdStart -benchtime 1x -count 1 ./infra/coldstart/"
  "go test -run '^\$' -bench WebhookLatency -benchtime 1x ./internal/webhook/"
  "go test -run '^\$' -bench Scale -benchtime 1x ./cmd/ipsync/"
)
results=""
for cmd in "${cmds[@]}"; do
  echo "\$ $cmd"
  out=$(eval "$cmd" 2>&1 | grep -E '^(Benchmark|FAIL|---)' || true)
  echo "$out"
  if grep -q FAIL <<<"$out"; then echo "benchmark failed" >&2; exit 1; fi
  results+="\$ $cmd"$'\n'"$out"$'\n\n'
done
# The plan benchmark, 10 runs before and after the ipset sweep change
# (fe3cf52), compared with benchstat. "Before" is commit bd27871 in a
# temporary worktree, with today's benchmark file copied in.
before=$(mktemp -d)
trap 'git worktree remove --force "$before/tree" >/dev/null 2>&1 || true; rm -rf "$before"' EXIT
git worktree add -q "$before/tree" bd27871
cp internal/plan/bench_test.go "$before/tree/internal/plan/"
stat_cmd="go test -run '^\$' -bench Plan10kx100 -benchmem -benchtime 2x -count 10 ./internal/plan/"
echo "\$ (cd <worktree at bd27871> && $stat_cmd) > old.txt; $stat_cmd > new.txt; go tool benchstat old.txt new.txt"
(cd "$before/tree" && eval "$stat_cmd") > "$before/old.txt"
eval "$stat_cmd" > "$before/new.txt"
benchstat_out=$(go tool benchstat "$before/old.txt" "$before/new.txt" | sed "s#$before/##g")
echo "$benchstat_out"
results+="\$ (cd <worktree at bd27871> && $stat_cmd) > old.txt; $stat_cmd > new.txt; go tool benchstat old.txt new.txt"$'\n'"$benchstat_out"$'\n\n'

echo "\$ bash infra/binsize.sh"
sizes=$(bash infra/binsize.sh)
echo "$sizes"
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (infra/bench.sh); run it again rather than editing this file."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- $(go version)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo
  echo "| benchmark | what it measures | goal | met? |"
  echo "| --- | --- | --- | --- |"
  echo "| BenchmarkAggregate10k | aggregate 10,000 random CIDRs (90 % IPv4 /24–/32, 10 % IPv6 /64–/128, fixed seed) to the minimal set | recorded (issue 2) | recorded |"
  echo "| BenchmarkPlan10kx100 | plan 100 targets whose sources give 10,000 CIDRs each (live policies hold half): desired set, diff, guards, rewrite, render; every target is refused for size after rendering, the costliest path | recorded (issue 3); 10 runs before and after the ipset change compared with benchstat (issue 6, figure 5) | recorded; the benchstat table is below |"
  echo "| BenchmarkNoOpRun | one whole reconcile with nothing to change, against moto_server and the simulator (1 project, 1 KMS target); reports calls per run | atlas-calls/run = 1 + projects = 2; aws-calls/run = 1 snapshot read + 1 per target = 2; writes/run = 0 | see the figures: met when they read 2, 2, 0 |"
  echo "| BenchmarkPolicyCapacity | distinct non-adjacent IPv4 /32s that fit in a 32 KB KMS key policy holding \`infra/policies/kms-key-policy.json\`'s base statements, against (32,768 − base bytes) / bytes per entry | ≥ 95 % (issue 6, figure 6) | met when %-of-theoretical ≥ 95 |"
  echo "| BenchmarkColdStart | exec of each bootstrap (built for this machine's CPU, the functions' flags) to its first Runtime API \`next\` request; median of 20 starts, interleaved with a hello world and, for each function: its SDK floor (\`floor-NAME\`: imports exactly the SDK packages the function uses and links the SDK operations it calls, which \`TestFloorsLinkTheSDKCalls\` keeps equal, and at start does nothing else); an *imports* binary (the same SDK packages, blank-imported, so the linker keeps none of their operations: issue 6's first sketch of a floor); and a *linked* binary (everything the function links, started like the floor). floor/imports is what linking the SDK operations costs, linked/floor what linking our code and non-SDK dependencies costs, function/linked what the function does at start; NAME-faults is the median of the minor page faults each binary took by then, and anon-fault-us what one first touch of a fresh page costs on this machine (2,000 pages touched in a loop). Before the starts, every binary is written back, dropped from the page cache and read in once, so all start from the same cache state; \`floor-webhook-2\` is a second build of the webhook's floor, and floor-webhook-2/floor shows what the measurement reads for two identical binaries (its spread is the resolution of every ratio here) | each function ≤ 1.1 × its SDK floor: our code and non-SDK dependencies add at most 10 % (issue 6, figure 1) | met when reconcile/floor and webhook/floor are ≤ 1.1 in every run below; NAME/imports is the same ratio against the imports binary, for comparison; the second command takes the median of 150 starts instead of 20, for a steadier figure |"
  echo "| BenchmarkWebhookLatency | signed request in → 202 out through the webhook's HTTP handler (as \`ipsync webhook serve\`), secret in Secrets Manager and FIFO queue on moto_server; 1,000 requests one after another from a client on loopback | p50 and p99 recorded (issue 6, figure 7); 202 \"well under a second\" (issue 4) | met when p99 < 1,000 ms |"
  echo "| BenchmarkScale | \`ipsync plan\` as a process over 1,000 projects and 100 KMS targets, the simulator adding 50 ms to every call: wall time at concurrency 1 (serial baseline), 8 and 16 (the default, \`atlas.concurrency\`); its peak RSS; Atlas calls per run; a run through a 429 storm within the retry budget | ≥ 10 × the serial baseline; peak RSS ≤ 64 MB; Atlas calls = 1 + projects; the storm slows the run, never fails it (issue 6, figure 3) | speed-up: met when speedup-default ≥ 10 (speedup-8 for comparison); the others: met when peak-rss-MiB ≤ 61, atlas-calls/run = 1001, and the benchmark did not fail |"
  echo "| binary size (\`infra/binsize.sh\`) | each function's bootstrap, linux/arm64, stripped, with the packages whose code weighs most | ≤ 12 MB each (issue 6, figure 2) | met when both sizes below are under 12,000,000 bytes |"
  echo
  echo "The minimum-calls figure is also asserted, exactly, by \`TestFirstApplyThenNoOp\` in \`make test\`."
  echo
  echo '```'
  printf '%s' "$results"
  echo "\$ bash infra/binsize.sh"
  echo "$sizes"
  echo '```'
  echo
  cat infra/bench-history.md
} > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
