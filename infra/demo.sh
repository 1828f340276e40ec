#!/usr/bin/env bash
# make demo: the local stack end to end. Starts moto_server (AWS) and the
# Atlas simulator on 127.0.0.1, keeps the Atlas API key in Secrets Manager,
# and shows what ipsync sees, how a change in Atlas shows up, and how a rate
# limit is ridden out. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d)
BIN="$WORK/bin"
source infra/localstack.sh
trap 'stack_stop; rm -rf "$WORK"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Building ipsync and the Atlas simulator"
mkdir -p "$BIN"
go build -o "$BIN/ipsync" ./cmd/ipsync
go build -o "$BIN/atlas-sim" ./cmd/atlas-sim

say "Starting the local stack"
start_moto
echo "moto_server (KMS, S3, SNS, SQS, Secrets Manager, ...): $MOTO_URL"
PROJECT=5aec7afbf7d068e35a39809b
start_sim -api-key "demo-public:demo-private-key" \
  -control-plane infra/demo/control-plane.json \
  -project "$PROJECT=infra/demo/project.json"
echo "Atlas simulator (digest auth, real spec shapes):   $SIM_URL"

export AWS_ENDPOINT_URL="$MOTO_URL" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
unset AWS_PROFILE ATLAS_PUBLIC_KEY ATLAS_PRIVATE_KEY ATLAS_CLIENT_ID ATLAS_CLIENT_SECRET

say "Storing the Atlas API key in Secrets Manager (never in the config)"
aws --endpoint-url "$MOTO_URL" secretsmanager create-secret --name ipsync/atlas-api-key \
  --secret-string '{"publicKey":"demo-public","privateKey":"demo-private-key"}' \
  --query ARN --output text

cat >"$WORK/ipsync.yaml" <<YAML
atlas:
  baseURL: $SIM_URL
  credentials:
    secretId: ipsync/atlas-api-key
  projects: ["$PROJECT"]
YAML
echo "config ($WORK/ipsync.yaml):"; sed 's/^/  /' "$WORK/ipsync.yaml"

say "ipsync fetch: what Atlas says right now (reads only; writes nothing)"
"$BIN/ipsync" fetch --config "$WORK/ipsync.yaml" 2>"$WORK/fetch1.log"
HASH1=$("$BIN/ipsync" fetch --config "$WORK/ipsync.yaml" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])')

say "Atlas adds a control-plane address in us-east-1 (44.210.7.7)"
curl -fsS -X PUT --data @infra/demo/control-plane-changed.json "$SIM_URL/_sim/controlPlane"
HASH2=$("$BIN/ipsync" fetch --config "$WORK/ipsync.yaml" --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["hash"]); print(" ".join(d["controlPlane"]["outbound"]["aws"]["us-east-1"]), file=sys.stderr)' 2>"$WORK/us-east-1.txt")
echo "snapshot hash before: $HASH1"
echo "snapshot hash after:  $HASH2"
echo "us-east-1 outbound now: $(cat "$WORK/us-east-1.txt")"
[ "$HASH1" != "$HASH2" ] || { echo "the hash did not change" >&2; exit 1; }

say "Atlas rate-limits the next project call (429, Retry-After: 1): ipsync waits and succeeds"
curl -fsS -X POST -d '{"endpoint":"groupIPs","status":429,"retryAfter":"1","times":1}' "$SIM_URL/_sim/faults"
"$BIN/ipsync" fetch --config "$WORK/ipsync.yaml" >/dev/null 2>"$WORK/fetch429.log"
echo "exit 0; the log line on-call would see:"
grep 'retrying' "$WORK/fetch429.log" | sed 's/^/  /'

say "A wrong API key fails plainly, with what to check (exit 1)"
aws --endpoint-url "$MOTO_URL" secretsmanager put-secret-value --secret-id ipsync/atlas-api-key \
  --secret-string '{"publicKey":"demo-public","privateKey":"not-the-key"}' >/dev/null
set +e
"$BIN/ipsync" fetch --config "$WORK/ipsync.yaml" >/dev/null 2>"$WORK/fetch401.log"
code=$?
set -e
echo "exit $code"
grep '^ipsync:' "$WORK/fetch401.log" | sed 's/^/  /'
[ "$code" = 1 ] || { echo "expected exit 1" >&2; exit 1; }

say "Calls the simulator answered"
curl -fsS "$SIM_URL/_sim/counts"; echo

say "Done: the local stack is stopped. Next: make test"
