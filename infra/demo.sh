#!/usr/bin/env bash
# make demo: the main job on the local stack, end to end. Starts moto_server
# (AWS) and the Atlas simulator on 127.0.0.1; creates a KMS key, a VPC
# endpoint and an IAM role whose policies own an Atlas statement, a NAT
# gateway for a project's IP access list, a security group whose egress to
# Atlas's clusters ipsync keeps, a prefix list, a WAF IP set, a GCP access
# level (in the GCP simulator), an Azure Key Vault firewall (in the Azure
# simulator), the snapshot bucket, the
# alert topic with a queue subscribed, and the Atlas key in Secrets Manager;
# then plans, applies, follows a change in Atlas and a new NAT gateway,
# corrects a hand edit, refuses a poisoned answer and an empty one, and prints the alerts
# on-call would receive.
# Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
BIN="$WORK/bin"
source infra/localstack.sh
trap 'stack_stop; rm -rf "$WORK"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# run CMD...: show it, run it, show its exit code (the demo goes on either way).
run() {
  printf '\033[2m$ %s\033[0m\n' "ipsync ${*:2}"
  local code=0
  "$@" 2>>"$WORK/ipsync.log" || code=$?
  printf '\033[2m(exit %d)\033[0m\n' "$code"
  return 0
}


say "Building ipsync, the Atlas simulator and the reconcile function (in the background)"
mkdir -p "$BIN"
# One build, one set of flags: every package compiles once (the reconcile
# function is built as for Lambda, but for this machine's CPU). It runs while
# the AWS side is set up, which needs none of it. The AWS SDK's packages are
# compiled without optimisation or inlining (-N -l): on an empty build cache
# they are most of the compiling (EC2's alone is the longest), and the demo
# shows behaviour, not speed; `make build` and `sam build` optimise them.
( CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -gcflags 'github.com/aws/...=-N -l' -o "$BIN/" \
    ./cmd/ipsync ./cmd/atlas-sim ./cmd/gcp-sim ./cmd/azure-sim ./cmd/lambda-local ./functions/reconcile &&
  mv "$BIN/reconcile" "$BIN/reconcile-bootstrap" ) >"$WORK/build.log" 2>&1 &
BUILD_PID=$!
IPSYNC="$BIN/ipsync"

say "Starting moto_server"
start_moto
echo "moto_server (KMS, EC2, IAM, S3, SNS, SQS, Secrets Manager): $MOTO_URL"
PROJECT=5aec7afbf7d068e35a39809b

export AWS_ENDPOINT_URL="$MOTO_URL" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
unset AWS_PROFILE ATLAS_PUBLIC_KEY ATLAS_PRIVATE_KEY ATLAS_CLIENT_ID ATLAS_CLIENT_SECRET
# The functions refuse SDK settings Lambda never gives them (see
# lambdafn.AWSConfig); moto is plain HTTP, so no CA bundle is needed.
unset AWS_CA_BUNDLE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_MAX_ATTEMPTS AWS_RETRY_MODE
aws() { command aws --endpoint-url "$MOTO_URL" "$@"; }

say "Creating the AWS side: key, endpoint, Atlas role, NAT gateway, bucket, alert topic, secret"
KEY=$(aws kms create-key --description "Atlas encryption at rest" --policy file://infra/policies/kms-key-policy.json --query KeyMetadata.Arn --output text)
VPC=$(aws ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
VPCE=$(aws ec2 create-vpc-endpoint --vpc-id "$VPC" --service-name com.amazonaws.us-east-1.kms --vpc-endpoint-type Interface \
  --policy-document file://infra/policies/vpc-endpoint-policy.json --query VpcEndpoint.VpcEndpointId --output text)
ROLE_POLICY=atlas-kms-access/AtlasKMS
aws iam create-role --role-name atlas-kms-access --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::536727724300:root"},"Action":"sts:AssumeRole"}]}' >/dev/null
aws iam put-role-policy --role-name atlas-kms-access --policy-name AtlasKMS --policy-document file://infra/policies/iam-role-policy.json
# The application's egress: a NAT gateway whose Elastic IP must be in the Atlas project's access list.
SUBNET=$(aws ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.0.1.0/24 --query Subnet.SubnetId --output text)
EIP_ALLOC=$(aws ec2 allocate-address --domain vpc --address 198.51.100.77 --query AllocationId --output text)
NAT_IP=$(aws ec2 create-nat-gateway --subnet-id "$SUBNET" --allocation-id "$EIP_ALLOC" \
  --tag-specifications 'ResourceType=natgateway,Tags=[{Key=atlas-egress,Value=app}]' \
  --query 'NatGateway.NatGatewayAddresses[0].PublicIp' --output text)
aws s3api create-bucket --bucket ipsync-demo >/dev/null
TOPIC=$(aws sns create-topic --name ipsync-alerts --query TopicArn --output text)
QUEUE=$(aws sqs create-queue --queue-name oncall --query QueueUrl --output text)
QARN=$(aws sqs get-queue-attributes --queue-url "$QUEUE" --attribute-names QueueArn --query Attributes.QueueArn --output text)
aws sns subscribe --topic-arn "$TOPIC" --protocol sqs --notification-endpoint "$QARN" >/dev/null
aws secretsmanager create-secret --name ipsync/atlas-api-key \
  --secret-string '{"publicKey":"demo-public","privateKey":"demo-private-key"}' >/dev/null
WEBHOOK_SECRET=demo-webhook-secret
aws secretsmanager create-secret --name ipsync/webhook --secret-string "$WEBHOOK_SECRET" >/dev/null
TRIGGERS=$(aws sqs create-queue --queue-name ipsync-triggers.fifo --attributes FifoQueue=true --query QueueUrl --output text)
# The app's security group: egress to Atlas's clusters on 27015-27017, without
# EC2's allow-all egress rule; one rule is the database team's, not ipsync's.
SG=$(aws ec2 create-security-group --group-name app-to-atlas --description "app egress to Atlas" --vpc-id "$VPC" --query GroupId --output text)
aws ec2 revoke-security-group-egress --group-id "$SG" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
aws ec2 authorize-security-group-egress --group-id "$SG" \
  --ip-permissions 'IpProtocol=tcp,FromPort=27015,ToPort=27017,IpRanges=[{CidrIp=192.0.2.10/32,Description="db team"}]' >/dev/null
# The prefix list is declared in the network team's Terraform: doctor warns of it (docs/iac.md).
PL=$(aws ec2 create-managed-prefix-list --prefix-list-name atlas-nodes --address-family IPv4 --max-entries 20 \
  --entries 'Cidr=203.0.113.0/24,Description=office VPN' \
  --tag-specifications 'ResourceType=prefix-list,Tags=[{Key=ManagedBy,Value=terraform}]' --query PrefixList.PrefixListId --output text)
IPSET=$(aws wafv2 create-ip-set --name atlas-webhook --scope REGIONAL --ip-address-version IPV4 --addresses '[]' \
  --description "atlas-ip-sync webhook receiver: Atlas's control plane" --query Summary.ARN --output text)
echo "KMS key      $KEY   (policy: infra/policies/kms-key-policy.json, placeholder in AtlasIPAllowList)"
echo "VPC endpoint $VPCE            (policy: infra/policies/vpc-endpoint-policy.json, placeholder in AtlasNodes)"
echo "IAM role     $ROLE_POLICY (inline policy: infra/policies/iam-role-policy.json, placeholder in AtlasIPAllowList)"
echo "NAT gateway  $NAT_IP (tag atlas-egress=app): the app's egress, for the Atlas project's access list"
echo "security grp $SG (egress tcp 27015-27017; one rule of the db team)"
echo "prefix list  $PL (IPv4, MaxEntries 20; one entry of someone else; tagged ManagedBy=terraform)"
echo "WAF IP set   $IPSET"
echo "alerts       $TOPIC -> SQS oncall"
echo "triggers     $TRIGGERS (FIFO; the webhook enqueues, the reconcile consumes)"

say "Starting the Atlas simulator"
wait "$BUILD_PID" || { cat "$WORK/build.log" >&2; exit 1; }
start_sim -api-key "demo-public:demo-private-key" \
  -control-plane infra/demo/control-plane.json \
  -project "$PROJECT=infra/demo/project.json"
echo "Atlas simulator (digest auth, answers checked against the official spec): $SIM_URL"
GCP_LEVEL=accessPolicies/123456789/accessLevels/atlas_ip_sync
start_gcp_sim -level "$GCP_LEVEL=infra/demo/gcp-level.json" -perimeter "123456789/cloud_kms=$GCP_LEVEL"
aws secretsmanager create-secret --name ipsync/gcp-service-account --secret-string "file://$WORK/gcp-sa.json" >/dev/null
echo "GCP simulator (signed-JWT tokens, Access Context Manager checked against its discovery document): $GCP_URL"
echo "  access level $GCP_LEVEL, in the service perimeter cloud_kms; its service-account key in Secrets Manager"
VAULT=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-ear-kv
start_azure_sim -vault "$VAULT=203.0.113.0/24"
aws secretsmanager create-secret --name ipsync/azure-client --secret-string '{"clientSecret":"sim-client-secret-do-not-log"}' >/dev/null
echo "Azure simulator (Entra client credentials, Key Vault checked against its Swagger): $AZURE_URL"
echo "  vault $VAULT (defaultAction Deny; one rule of the office VPN); the app's client secret in Secrets Manager"
# An entry somebody else manages: ipsync owns only the entries whose comment starts with its sid.
curl -fsS --digest -u demo-public:demo-private-key -H 'Content-Type: application/vnd.atlas.2023-01-01+json' -H 'Accept: application/vnd.atlas.2023-01-01+json' \
  --data '[{"cidrBlock":"203.0.113.0/24","comment":"office VPN"}]' "$SIM_URL/api/atlas/v2/groups/$PROJECT/accessList" >/dev/null
access_list() {
  curl -fsS --digest -u demo-public:demo-private-key -H 'Accept: application/vnd.atlas.2023-01-01+json' \
    "$SIM_URL/api/atlas/v2/groups/$PROJECT/accessList" |
    python3 -c 'import json,sys
for e in json.load(sys.stdin)["results"]: print("  %-18s comment: %s" % (e.get("cidrBlock") or e.get("ipAddress"), e.get("comment", "")))'
}
echo "the project's IP access list:"; access_list

CFG="$WORK/ipsync.yaml"
cat >"$CFG" <<YAML
atlas:
  baseURL: $SIM_URL
  credentials:
    secretId: ipsync/atlas-api-key
  projects: ["$PROJECT"]
snapshot:
  url: s3://ipsync-demo/ipsync/snapshot.json
notify:
  topicArn: $TOPIC
trigger:
  queueUrl: $TRIGGERS
webhook:
  secretId: ipsync/webhook
targets:
  - name: atlas-ear-key
    type: kms-key-policy
    resource: $KEY
    sid: AtlasIPAllowList
    sources: [control-plane-outbound, nodes-outbound]
    encryptionAtRestProjects: ["$PROJECT"]   # after a change, ask Atlas it can still use the key
  - name: kms-endpoint
    type: vpc-endpoint-policy
    resource: $VPCE
    sid: AtlasNodes
    sources: [nodes]
  - name: atlas-role
    type: iam-role-policy
    resource: $ROLE_POLICY
    sid: AtlasIPAllowList
    sources: [control-plane-outbound]
  - name: app-egress
    type: atlas-access-list
    resource: "$PROJECT"
    sid: "atlas-ip-sync:"     # owns the entries whose comment starts with this
    sources: ["nat-gateways:atlas-egress=app"]
  - name: app-to-atlas
    type: security-group
    resource: $SG
    sid: "atlas-ip-sync:"     # owns the rules whose description starts with this
    direction: egress
    protocol: tcp
    ports: "27015-27017"
    sources: [nodes-inbound]
  - name: atlas-nodes
    type: prefix-list
    resource: $PL
    sid: "atlas-ip-sync:"
    sources: [nodes-inbound]
  - name: atlas-webhook
    type: waf-ip-set
    resource: $IPSET
    sid: atlas-ip-sync        # the set's description starts with this: ipsync owns it whole
    sources: [control-plane-outbound]
  - name: cloud-kms-level
    type: gcp-access-level
    resource: $GCP_LEVEL
    sid: atlas-ip-sync        # the level's description starts with this: ipsync owns it whole
    sources: [control-plane-outbound, nodes-outbound]
  - name: atlas-ear-vault
    type: azure-key-vault
    resource: $VAULT
    sid: atlas-ip-sync        # ipsync tags the vault ipsync-atlas-ip-sync and owns only the rules it writes
    sources: [control-plane-outbound, nodes-outbound]
azure:
  tenantId: 00000000-0000-0000-0000-0000000000aa
  clientId: 11111111-1111-1111-1111-1111111111bb
  credentials:
    secretId: ipsync/azure-client
  authorityURL: $AZURE_URL
  managementURL: $AZURE_URL
gcp:
  endpoint: $GCP_URL
  credentials:
    secretId: ipsync/gcp-service-account
verify:
  window: 0s   # ask Atlas once, right after a change (default 2m: the demo stays quick)
YAML
echo; echo "config:"; sed 's/^/  /' "$CFG"

say "ipsync plan: what would change (writes nothing; exit 2 = changes pending)"
run "$IPSYNC" plan --config "$CFG"

say "ipsync apply: write the policies and the access list, verify them, record the snapshot"
run "$IPSYNC" apply --config "$CFG"
echo "the key policy's owned statement now:"
aws kms get-key-policy --key-id "$KEY" --policy-name default --query Policy --output text |
  python3 -c 'import json,sys; p=json.load(sys.stdin); s=[x for x in p["Statement"] if x["Sid"]=="AtlasIPAllowList"][0]; print("  " + json.dumps(s["Condition"]))'
echo "the Atlas role's inline policy, owned statement:"
aws iam get-role-policy --role-name atlas-kms-access --policy-name AtlasKMS --query PolicyDocument --output json |
  python3 -c 'import json,sys; p=json.load(sys.stdin); p=json.loads(p) if isinstance(p,str) else p; s=[x for x in p["Statement"] if x["Sid"]=="AtlasIPAllowList"][0]; print("  " + json.dumps(s["Condition"]))'
echo "the project's IP access list (the office VPN entry is not ipsync's and stays):"; access_list
network() {
  echo "the security group's egress rules (the db team's rule stays, and ipsync adds nothing for its address):"
  aws ec2 describe-security-group-rules --filters "Name=group-id,Values=$SG" --output json |
    python3 -c 'import json,sys
for r in json.load(sys.stdin)["SecurityGroupRules"]: print("  %-18s tcp %s-%s  %s" % (r.get("CidrIpv4") or r.get("CidrIpv6"), r["FromPort"], r["ToPort"], r.get("Description", "")))'
  echo "the prefix list's entries:"
  aws ec2 get-managed-prefix-list-entries --prefix-list-id "$PL" --output json |
    python3 -c 'import json,sys
for e in json.load(sys.stdin)["Entries"]: print("  %-18s %s" % (e["Cidr"], e.get("Description", "")))'
  echo "the key vault's IP rules (the office VPN's stays; ipsync owns what it wrote):"
  curl -fsS -H "Authorization: Bearer $(curl -fsS -d grant_type=client_credentials -d client_id=11111111-1111-1111-1111-1111111111bb \
      -d client_secret=sim-client-secret-do-not-log -d scope="$AZURE_URL/.default" "$AZURE_URL/00000000-0000-0000-0000-0000000000aa/oauth2/v2.0/token" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')" "$AZURE_URL$VAULT?api-version=2024-11-01" |
    python3 -c 'import json,sys
v=json.load(sys.stdin)
for r in v["properties"]["networkAcls"]["ipRules"]: print("  " + r["value"])
print("  tags:", json.dumps(v.get("tags", {})))'
  echo "the WAF IP set's addresses:"
  aws wafv2 get-ip-set --scope REGIONAL --name atlas-webhook --id "${IPSET##*/}" --query 'IPSet.Addresses' --output text | tr '\t' '\n' | sed 's/^/  /'
}
network
echo "each target's set, published beside the snapshot for Terraform or CloudFormation (docs/iac.md):"
aws s3 ls s3://ipsync-demo/ipsync/targets/ | sed 's/^/  /'
aws s3 cp s3://ipsync-demo/ipsync/targets/app-to-atlas.json - | sed 's/^/  /'

say "ipsync plan again: in sync (exit 0)"
run "$IPSYNC" plan --config "$CFG"

say "Atlas adds a control-plane address (44.210.7.7) and a cluster drops a node (198.51.100.22)"
curl -fsS -X PUT --data @infra/demo/control-plane-changed.json "$SIM_URL/_sim/controlPlane"
python3 - "$SIM_URL" <<'PY'
import json, sys, urllib.request
clusters = json.load(open("infra/demo/project.json"))
clusters[0]["outbound"] = [a for a in clusters[0]["outbound"] if a != "198.51.100.22"]
req = urllib.request.Request(sys.argv[1] + "/_sim/groups/5aec7afbf7d068e35a39809b", data=json.dumps(clusters).encode(), method="PUT")
urllib.request.urlopen(req)
PY
echo "The addition is applied at once; the dropped address stays allowed for the removal grace (24h):"
run "$IPSYNC" apply --config "$CFG"

say "Someone edits the endpoint policy by hand: the next run puts it back (drift)"
aws ec2 modify-vpc-endpoint --vpc-endpoint-id "$VPCE" --policy-document "$(python3 -c '
import json
doc = json.load(open("infra/policies/vpc-endpoint-policy.json"))
doc["Statement"][1]["Condition"]["IpAddress"]["aws:VpcSourceIp"] = ["203.0.113.66/32"]
print(json.dumps(doc))')" >/dev/null
run "$IPSYNC" apply --config "$CFG"

say "The app gets a second NAT gateway: the next run adds its address to the project's access list"
EIP2=$(aws ec2 allocate-address --domain vpc --address 198.51.100.78 --query AllocationId --output text)
aws ec2 create-nat-gateway --subnet-id "$SUBNET" --allocation-id "$EIP2" \
  --tag-specifications 'ResourceType=natgateway,Tags=[{Key=atlas-egress,Value=app}]' >/dev/null
run "$IPSYNC" apply --config "$CFG"
echo "the project's IP access list:"; access_list

say "Atlas raises an alert: a signed webhook reaches ipsync webhook serve (the webhook function's handler)"
"$IPSYNC" webhook serve --config "$CFG" --addr 127.0.0.1:0 >"$WORK/webhook.url" 2>"$WORK/webhook.log" &
STACK_PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/webhook.url" ] && break; sleep 0.1; done
HOOK=$(cat "$WORK/webhook.url")
echo "webhook at $HOOK"
# Atlas adds a cluster node, then tells us through an alert.
python3 - "$SIM_URL" <<'PY'
import json, sys, urllib.request
clusters = json.load(open("infra/demo/project.json"))
clusters[0]["outbound"] = ["198.51.100.20", "198.51.100.21", "198.51.100.23"]
clusters[0]["futureOutbound"] = ["198.51.100.24"]
req = urllib.request.Request(sys.argv[1] + "/_sim/groups/5aec7afbf7d068e35a39809b", data=json.dumps(clusters).encode(), method="PUT")
urllib.request.urlopen(req)
PY
ALERT=infra/demo/webhook-alert.json
SIG=$(python3 -c 'import base64,hashlib,hmac,sys; print(base64.b64encode(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha1).digest()).decode())' "$WEBHOOK_SECRET" "$ALERT")
printf 'signed alert          -> HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-MMS-Signature: $SIG" --data-binary @"$ALERT" "$HOOK")"
printf 'same alert, replayed  -> HTTP %s (the FIFO queue drops the duplicate)\n' "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-MMS-Signature: $SIG" --data-binary @"$ALERT" "$HOOK")"
printf 'forged signature      -> HTTP %s, nothing enqueued\n' "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-MMS-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA=" --data-binary @"$ALERT" "$HOOK")"
printf 'GET                   -> HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' "$HOOK")"
aws sqs receive-message --queue-url "$TRIGGERS" --max-number-of-messages 10 --output json >"$WORK/received.json"
python3 - "$WORK/received.json" "$WORK/sqs-event.json" <<'PY'
import json, sys
msgs = json.load(open(sys.argv[1]))["Messages"]
print(f"the trigger queue held {len(msgs)} message(s):")
for m in msgs: print("  " + m["Body"])
records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
            "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ipsync-triggers.fifo", "awsRegion": "us-east-1"} for m in msgs]
json.dump({"Records": records}, open(sys.argv[2], "w"))
PY
echo "The reconcile function (its bootstrap, through a local Lambda Runtime API) consumes the batch;"
echo "its IPSYNC_CONFIG is the YAML config as JSON, from 'ipsync config':"
"$IPSYNC" config --config "$CFG" | sed "s/^/  /"
IPSYNC_CONFIG="$("$IPSYNC" config --config "$CFG")" "$BIN/lambda-local" -bootstrap "$BIN/reconcile-bootstrap" -event "$WORK/sqs-event.json" 2>"$WORK/reconcile-fn.log" \
  | sed "s/^/  /" && echo "  the function returned without error (Lambda would now delete the messages)"
python3 - "$WORK/reconcile-fn.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: d = json.loads(line)
    except ValueError: continue
    if d.get("msg") in ("reconcile triggered", "target applied", "reconcile done"):
        keep = {k: v for k, v in d.items() if k in ("msg", "trigger", "messages", "target", "add", "remove", "status")}
        print("  log: " + json.dumps(keep))
    elif "_aws" in d and "Outcome" in d:
        print(f"  metric: Runs=1 Outcome={d['Outcome']} AtlasFetchLatency={d['AtlasFetchLatency']}ms MaxPolicySizePercent={d['MaxPolicySizePercent']:.1f}")
PY
for h in $(python3 -c 'import json,sys; [print(m["ReceiptHandle"]) for m in json.load(open(sys.argv[1]))["Messages"]]' "$WORK/received.json"); do
  aws sqs delete-message --queue-url "$TRIGGERS" --receipt-handle "$h"
done
echo "ipsync plan afterwards:"
run "$IPSYNC" plan --config "$CFG"

say "Atlas loses the key right after a change: ipsync rolls the change back and blocks the key"
python3 - "$SIM_URL" <<'PY'
import json, sys, urllib.request
cp = json.load(open("infra/demo/control-plane-changed.json"))
cp["outbound"]["aws"]["us-east-1"].append("44.210.8.8/32")
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_sim/controlPlane", data=json.dumps(cp).encode(), method="PUT"))
PY
echo "Atlas adds 44.210.8.8, and the simulator will answer awsKms.valid=false from the second question on"
echo "(valid before the change, invalid after it: exit 1, the key policy is as it was):"
curl -fsS -X PUT --data '{"valid":false,"after":1}' "$SIM_URL/_sim/groups/$PROJECT/encryptionAtRest"
run "$IPSYNC" apply --config "$CFG"
curl -fsS -X PUT --data '{"valid":true}' "$SIM_URL/_sim/groups/$PROJECT/encryptionAtRest"
echo "Atlas is fine again, but the key stays blocked until a human says so (exit 1, nothing written):"
run "$IPSYNC" plan --config "$CFG"
run "$IPSYNC" unblock atlas-ear-key --config "$CFG"
run "$IPSYNC" apply --config "$CFG"

say "ipsync doctor: one line per check (warnings: no scheduled run yet here; the prefix list is Terraform's)"
run "$IPSYNC" doctor --config "$CFG"

say "Atlas's answer carries 0.0.0.0/0 and a private range: admission refuses it before any write (exit 3)"
# atlas_answer POISONED: Atlas's answer as the scenes above left it, with
# 0.0.0.0/0 in the control plane's outbound list and 10.0.0.0/8 in a
# cluster's node list when POISONED is 1.
atlas_answer() {
  python3 - "$SIM_URL" "$1" <<'PY'
import json, sys, urllib.request
url, poisoned = sys.argv[1], sys.argv[2] == "1"
cp = json.load(open("infra/demo/control-plane-changed.json"))
cp["outbound"]["aws"]["us-east-1"].append("44.210.8.8/32")
clusters = json.load(open("infra/demo/project.json"))
clusters[0]["outbound"] = ["198.51.100.20", "198.51.100.21", "198.51.100.23"]
clusters[0]["futureOutbound"] = ["198.51.100.24"]
if poisoned:
    cp["outbound"]["aws"]["us-east-1"].append("0.0.0.0/0")
    clusters[0]["outbound"].append("10.0.0.0/8")
put = lambda path, body: urllib.request.urlopen(urllib.request.Request(url + path, data=json.dumps(body).encode(), method="PUT"))
put("/_sim/controlPlane", cp)
put("/_sim/groups/5aec7afbf7d068e35a39809b", clusters)
PY
}
atlas_answer 1
echo "ipsync fetch names each value, the rule it breaks and where it came from:"
"$IPSYNC" fetch --config "$CFG" 2>/dev/null | sed -n '/^refused:/,$p'
run "$IPSYNC" apply --config "$CFG"
atlas_answer 0
echo "Atlas answers correctly again: in sync, nothing to write (on-call hears the targets recovered):"
run "$IPSYNC" apply --config "$CFG"

say "Atlas answers with empty lists: refused, nothing written (exit 3)"
curl -fsS -X PUT --data '{"inbound":{},"outbound":{}}' "$SIM_URL/_sim/controlPlane"
curl -fsS -X PUT --data '[]' "$SIM_URL/_sim/groups/$PROJECT"
run "$IPSYNC" plan --config "$CFG"
run "$IPSYNC" apply --config "$CFG"
echo "...and the next scheduled run refuses again without paging again:"
run "$IPSYNC" apply --config "$CFG"

say "What on-call received (SNS -> SQS), in order"
for _ in 1 2 3 4 5; do
  aws sqs receive-message --queue-url "$QUEUE" --max-number-of-messages 10 --output json
done | python3 -c '
import json, sys
raw = sys.stdin.read()
dec = json.JSONDecoder(); i = 0; msgs = []
while i < len(raw):
    raw_i = raw[i:].lstrip()
    if not raw_i: break
    obj, n = dec.raw_decode(raw_i); i = len(raw) - len(raw_i) + n
    msgs += obj.get("Messages", [])
for m in msgs:
    b = json.loads(m["Body"])
    print("-" * 72)
    print("event:   " + b["MessageAttributes"]["event"]["Value"])
    print("subject: " + b["Subject"])
    print(b["Message"].rstrip())
print("-" * 72)
print(f"{len(msgs)} message(s)")
'

say "Done: everything started here is stopped. Logs of each ipsync call were JSON lines on stderr; next: make test"
