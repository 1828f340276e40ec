package functions_test

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// BenchmarkTimeToFence: Atlas starts using a new control-plane address →
// every fence allows it, on the local stack. Per change: the Atlas
// simulator lists one more address; a signed alert goes to the webhook
// bootstrap (through a local Runtime API, as a function URL event); a
// poller standing in for Lambda's SQS event source long-polls the FIFO
// queue and invokes the reconcile bootstrap (its own Runtime API) with the
// batch; the run rewrites eight fences (KMS key policy, with Atlas's
// verification at verify.window 0s; VPC endpoint policy; role policy;
// security group; prefix list; WAF IP set on moto; GCP access level and
// Azure Key Vault on their simulators). Every call the reconcile makes
// passes a timing proxy, so each change's time splits into what it waited
// on. After each change the benchmark reads every fence itself and fails
// unless all allow the address. The Atlas access list is left out: it is
// fed by NAT gateways, not by Atlas's addresses.
func BenchmarkTimeToFence(b *testing.B) {
	changes := 50
	if n := os.Getenv("TIMETOFENCE_CHANGES"); n != "" {
		fmt.Sscan(n, &changes)
	}
	st := newFenceStack(b)
	var rows []fenceTiming
	for b.Loop() {
		rows = rows[:0]
		for i := range changes {
			rows = append(rows, st.change(b, i))
		}
	}
	report(b, rows)
}

// fenceTiming is one change, in the order it happened.
type fenceTiming struct {
	webhook time.Duration // alert sent → 202
	held    time.Duration // alert sent → the poller holds the message (overlaps webhook: the 202 travels back while the message is received)
	invoke  time.Duration // message held → the reconcile invocation returned
	fenced  time.Duration // alert sent → the last fence write returned
	done    time.Duration // alert sent → the invocation returned
	in      map[callClass]time.Duration
	ops     map[string]time.Duration // the slowest call of each operation
}

func report(b *testing.B, rows []fenceTiming) {
	pick := func(f func(fenceTiming) time.Duration) (p50, p99 float64) {
		var ds []time.Duration
		for _, r := range rows {
			ds = append(ds, f(r))
		}
		slices.Sort(ds)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		return ms(ds[len(ds)/2]), ms(ds[min(len(ds)-1, len(ds)*99/100)])
	}
	p50, p99 := pick(func(r fenceTiming) time.Duration { return r.fenced })
	b.ReportMetric(p50, "fenced-p50-ms")
	b.ReportMetric(p99, "fenced-p99-ms")
	p50, p99 = pick(func(r fenceTiming) time.Duration { return r.done })
	b.ReportMetric(p50, "done-p50-ms")
	b.ReportMetric(p99, "done-p99-ms")
	p50, _ = pick(func(r fenceTiming) time.Duration { return r.webhook })
	b.ReportMetric(p50, "webhook-p50-ms")
	p50, _ = pick(func(r fenceTiming) time.Duration { return r.held })
	b.ReportMetric(p50, "held-p50-ms")
	p50, _ = pick(func(r fenceTiming) time.Duration { return r.invoke })
	b.ReportMetric(p50, "invoke-p50-ms")
	for _, c := range classes {
		p50, _ := pick(func(r fenceTiming) time.Duration { return r.in[c] })
		b.ReportMetric(p50, string(c)+"-p50-ms")
	}
	b.ReportMetric(float64(len(rows)), "changes")
	// Which operations the time goes to: the median over the changes of
	// each operation's slowest call in the change.
	type opTime struct {
		op  string
		p50 float64
	}
	var ops []opTime
	for op := range rows[0].ops {
		p50, _ := pick(func(r fenceTiming) time.Duration { return r.ops[op] })
		ops = append(ops, opTime{op, p50})
	}
	slices.SortFunc(ops, func(a, b opTime) int { return cmp.Compare(b.p50, a.p50) })
	for _, o := range ops[:min(8, len(ops))] {
		b.Logf("slowest call of %s: p50 %.1f ms", o.op, o.p50)
	}
}

// fenceStack is the local stack, the two bootstraps and the fences.
type fenceStack struct {
	sim     *atlastest.Server
	gcp     *gcptest.Server
	az      *azuretest.Server
	cfg     aws.Config
	timer   *callTimer
	hook    *testenv.RuntimeAPI
	queue   string
	secret  []byte
	polled  chan polledRun
	fences  fenceIDs
	current []string
}

type fenceIDs struct {
	key, endpoint, role, group, list, ipSet, level, vault string
}

// polledRun is what the poller saw of one message.
type polledRun struct {
	held, returned time.Time
	err            error
}

const fenceProject = "5aec7afbf7d068e35a39809b"

func newFenceStack(b *testing.B) *fenceStack {
	ctx := context.Background()
	moto := testenv.SharedMoto(b)
	st := &fenceStack{cfg: moto.AWSConfig(b), current: []string{"3.92.113.229", "3.212.79.116"}, polled: make(chan polledRun, 1)}
	reconcileBin, webhookBin := build(b, "reconcile"), build(b, "webhook")

	st.sim = atlastest.New()
	if _, err := st.sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.sim.Close() })
	st.sim.AddAPIKey("pub", "priv")
	st.sim.SetControlPlane(st.controlPlane())
	st.sim.SetProject(fenceProject, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})

	var err error
	if st.gcp, err = gcptest.New(filepath.Join(testenv.Testdata(b), "gcp", "accesscontextmanager-v1-discovery.json")); err != nil {
		b.Fatal(err)
	}
	if _, err := st.gcp.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.gcp.Close() })
	if st.az, err = azuretest.New(filepath.Join(testenv.Testdata(b), "azure", "keyvault-2024-11-01.json")); err != nil {
		b.Fatal(err)
	}
	if _, err := st.az.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.az.Close() })

	suffix := fmt.Sprint(time.Now().UnixNano())
	f := &st.fences
	f.key = testenv.CreateKey(b, st.cfg, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	f.endpoint = testenv.CreateEndpoint(b, st.cfg, testenv.EndpointPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	f.role = testenv.CreateRolePolicy(b, st.cfg, testenv.RolePolicy("AtlasIPAllowList", "192.0.2.0/32"))
	f.group = testenv.CreateSecurityGroup(b, st.cfg)
	f.list = testenv.CreatePrefixList(b, st.cfg, "IPv4", 100)
	f.ipSet = testenv.CreateIPSet(b, st.cfg, "atlas-ip-sync webhook receiver", "IPV4")
	f.level = "accessPolicies/123456789/accessLevels/atlas_ip_sync"
	st.gcp.SetLevel(gcptest.Level{"name": f.level, "description": "atlas-ip-sync", "basic": map[string]any{"conditions": []any{map[string]any{"ipSubnetworks": []any{"192.0.2.0/32"}}}}})
	f.vault = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-atlas/providers/Microsoft.KeyVault/vaults/atlas-kv"
	st.az.SetVault(azuretest.NewVault(f.vault, "203.0.113.0/24"))

	bucket := "fence-" + suffix
	if _, err := s3.NewFromConfig(st.cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	trig, err := sqs.NewFromConfig(st.cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("triggers-" + suffix + ".fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		b.Fatal(err)
	}
	st.queue = aws.ToString(trig.QueueUrl)
	topic, err := sns.NewFromConfig(st.cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts-" + suffix)})
	if err != nil {
		b.Fatal(err)
	}
	if st.secret, err = os.ReadFile("../events/webhook-secret.txt"); err != nil {
		b.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(st.cfg)
	for name, value := range map[string]string{
		"atlas-" + suffix: `{"publicKey":"pub","privateKey":"priv"}`, "webhook-" + suffix: string(st.secret),
		"gcp-" + suffix: string(st.gcp.ServiceAccountJSON()), "azure-" + suffix: `{"clientSecret":"` + azuretest.ClientSecret + `"}`,
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			b.Fatal(err)
		}
	}

	// The reconcile reaches every service through the timer; the webhook
	// and the benchmark's own reads do not.
	st.timer = newCallTimer(b, map[callSource]string{sourceAWS: moto.Endpoint, sourceAtlas: st.sim.URL(), sourceGCP: st.gcp.URL, sourceAzure: st.az.URL})
	st.az.ManagementAlias = st.timer.url(sourceAzure) // the token's scope names the management URL ipsync is given
	cp := []string{"control-plane-outbound"}
	target := func(name, typ, resource, sid string, extra map[string]any) map[string]any {
		t := map[string]any{"name": name, "type": typ, "resource": resource, "sid": sid, "sources": cp}
		for k, v := range extra {
			t[k] = v
		}
		return t
	}
	config := func(atlasURL, gcpURL, azURL string) []byte {
		doc, _ := json.Marshal(map[string]any{
			"atlas":    map[string]any{"baseURL": atlasURL, "credentials": map[string]any{"secretId": "atlas-" + suffix}, "projects": []string{fenceProject}},
			"snapshot": map[string]any{"url": "s3://" + bucket + "/ipsync/snapshot.json"},
			"trigger":  map[string]any{"queueUrl": st.queue},
			"notify":   map[string]any{"topicArn": aws.ToString(topic.TopicArn)},
			"webhook":  map[string]any{"secretId": "webhook-" + suffix},
			"verify":   map[string]any{"window": "0s"},
			"gcp":      map[string]any{"endpoint": gcpURL, "credentials": map[string]any{"secretId": "gcp-" + suffix}},
			"azure": map[string]any{"tenantId": azuretest.TenantID, "clientId": azuretest.ClientID, "credentials": map[string]any{"secretId": "azure-" + suffix},
				"authorityURL": azURL, "managementURL": azURL},
			"targets": []any{
				target("key", "kms-key-policy", "arn:aws:kms:us-east-1:123456789012:key/"+f.key, "AtlasIPAllowList", map[string]any{"encryptionAtRestProjects": []string{fenceProject}}),
				target("endpoint", "vpc-endpoint-policy", f.endpoint, "AtlasIPAllowList", nil),
				target("role", "iam-role-policy", f.role, "AtlasIPAllowList", nil),
				target("group", "security-group", f.group, "atlas-ip-sync:", map[string]any{"direction": "egress", "protocol": "tcp", "ports": "27015-27017"}),
				target("list", "prefix-list", f.list, "atlas-ip-sync:", nil),
				target("ipset", "waf-ip-set", f.ipSet, "atlas-ip-sync", nil),
				target("level", "gcp-access-level", f.level, "atlas-ip-sync", nil),
				target("vault", "azure-key-vault", f.vault, "atlas-ip-sync", nil),
			},
		})
		return doc
	}
	base := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_LAMBDA_FUNCTION_NAME=ipsync-bench"}
	hookEnv := append(slices.Clone(base), "AWS_ENDPOINT_URL="+moto.Endpoint, "IPSYNC_CONFIG="+string(config(st.sim.URL(), st.gcp.URL, st.az.URL)))
	recEnv := append(slices.Clone(base), "AWS_ENDPOINT_URL="+st.timer.url(sourceAWS),
		"IPSYNC_CONFIG="+string(config(st.timer.url(sourceAtlas), st.timer.url(sourceGCP), st.timer.url(sourceAzure))))
	var hookLogs, recLogs *lockedBuffer
	st.hook, hookLogs = start(b, webhookBin, hookEnv)
	rec, recLogs := start(b, reconcileBin, recEnv)
	b.Cleanup(func() {
		if b.Failed() {
			b.Logf("webhook logs:\n%s\nreconcile logs:\n%s", hookLogs, recLogs)
		}
	})
	pollCtx, stop := context.WithCancel(ctx)
	b.Cleanup(stop)
	go st.poll(pollCtx, rec)
	// A first run outside the figures: the fences start out holding other
	// addresses, and the functions' first invocations build their clients.
	st.change(b, -1)
	return st
}

func (st *fenceStack) controlPlane() atlastest.ControlPlaneIPs {
	return atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": slices.Clone(st.current)}}}
}

// poll stands in for Lambda's event source mapping: a long poll always
// waiting on the queue, one invocation per batch, the batch deleted when
// the invocation succeeds.
func (st *fenceStack) poll(ctx context.Context, rec *testenv.RuntimeAPI) {
	q := sqs.NewFromConfig(st.cfg)
	for ctx.Err() == nil {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &st.queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
		if err != nil || len(out.Messages) == 0 {
			if err != nil && ctx.Err() == nil {
				st.polled <- polledRun{err: fmt.Errorf("receive: %w", err)}
			}
			continue
		}
		held := time.Now()
		var batch events.SQSEvent
		for _, m := range out.Messages {
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:triggers.fifo", AWSRegion: "us-east-1"})
		}
		payload, _ := json.Marshal(batch)
		res, err := rec.Invoke(ctx, payload)
		returned := time.Now()
		if err == nil && res.Error != nil {
			err = fmt.Errorf("reconcile failed: %s", res.Error)
		}
		for _, m := range out.Messages {
			if err == nil {
				_, err = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &st.queue, ReceiptHandle: m.ReceiptHandle})
			}
		}
		st.polled <- polledRun{held: held, returned: returned, err: err}
	}
}

// change makes Atlas list one more address, alerts the webhook, waits for
// the run the alert caused, and checks that every fence allows the address.
func (st *fenceStack) change(b *testing.B, i int) fenceTiming {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr := fmt.Sprintf("3.94.1.%d", 150+i) // three digits: no address is a prefix of another
	st.current = append(st.current, addr)
	st.sim.SetControlPlane(st.controlPlane())
	body := fmt.Sprintf(`{"id":"%024x","eventTypeName":"ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED","groupId":%q,"status":"OPEN"}`, time.Now().UnixNano(), fenceProject)
	m := hmac.New(sha1.New, st.secret)
	m.Write([]byte(body))
	req := events.LambdaFunctionURLRequest{Headers: map[string]string{"x-mms-signature": base64.StdEncoding.EncodeToString(m.Sum(nil))}, Body: body}
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.SourceIP = "POST", "127.0.0.1"
	ev, _ := json.Marshal(req)

	st.timer.reset()
	sent := time.Now()
	res, err := st.hook.Invoke(ctx, ev)
	accepted := time.Now()
	var resp events.LambdaFunctionURLResponse
	if err != nil || res.Error != nil || json.Unmarshal(res.Response, &resp) != nil || resp.StatusCode != 202 {
		b.Fatalf("webhook: %v %s %s", err, res.Error, res.Response)
	}
	var run polledRun
	select {
	case run = <-st.polled:
	case <-ctx.Done():
		b.Fatal("no run within 2 minutes of the alert")
	}
	if run.err != nil {
		b.Fatal(run.err)
	}
	calls := st.timer.calls()
	var lastWrite time.Time
	for _, c := range calls {
		if c.class == classWrites && c.end.After(lastWrite) {
			lastWrite = c.end
		}
	}
	if lastWrite.IsZero() {
		b.Fatalf("change %d: the run wrote no fence", i)
	}
	st.checkFences(b, addr)
	return fenceTiming{
		webhook: accepted.Sub(sent), held: run.held.Sub(sent), invoke: run.returned.Sub(run.held),
		fenced: lastWrite.Sub(sent), done: run.returned.Sub(sent), in: busy(calls), ops: slowest(calls),
	}
}

// prefixLike finds the addresses and prefixes in a fence's text: the
// fences aggregate, so 3.94.1.151 may be allowed as 3.94.1.150/31.
var prefixLike = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+(/\d+)?`)

func slowest(calls []call) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, c := range calls {
		out[c.op] = max(out[c.op], c.end.Sub(c.start))
	}
	return out
}

// checkFences reads every fence, outside the timer, and fails unless each
// allows addr.
func (st *fenceStack) checkFences(b *testing.B, addr string) {
	ctx := context.Background()
	f := st.fences
	want := netip.MustParseAddr(addr)
	has := func(what, in string) {
		for _, tok := range prefixLike.FindAllString(in, -1) {
			if !strings.Contains(tok, "/") {
				tok += "/32"
			}
			if p, err := netip.ParsePrefix(tok); err == nil && p.Contains(want) {
				return
			}
		}
		b.Fatalf("%s does not allow %s: %s", what, addr, in)
	}
	pol, err := kms.NewFromConfig(st.cfg).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &f.key, PolicyName: aws.String("default")})
	if err != nil {
		b.Fatal(err)
	}
	has("the key policy", aws.ToString(pol.Policy))
	e2 := ec2.NewFromConfig(st.cfg)
	eps, err := e2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{f.endpoint}})
	if err != nil {
		b.Fatal(err)
	}
	has("the endpoint policy", aws.ToString(eps.VpcEndpoints[0].PolicyDocument))
	role, name, _ := strings.Cut(f.role, "/")
	rp, err := iam.NewFromConfig(st.cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &role, PolicyName: &name})
	if err != nil {
		b.Fatal(err)
	}
	doc, _ := url.PathUnescape(aws.ToString(rp.PolicyDocument))
	has("the role policy", doc)
	rules, err := e2.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{f.group}}}})
	if err != nil {
		b.Fatal(err)
	}
	var cidrs []string
	for _, r := range rules.SecurityGroupRules {
		cidrs = append(cidrs, aws.ToString(r.CidrIpv4))
	}
	has("the security group", strings.Join(cidrs, " "))
	entries, err := e2.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &f.list})
	if err != nil {
		b.Fatal(err)
	}
	cidrs = cidrs[:0]
	for _, e := range entries.Entries {
		cidrs = append(cidrs, aws.ToString(e.Cidr))
	}
	has("the prefix list", strings.Join(cidrs, " "))
	arn := strings.Split(f.ipSet, "/")
	set, err := wafv2.NewFromConfig(st.cfg).GetIPSet(ctx, &wafv2.GetIPSetInput{Name: &arn[len(arn)-2], Id: &arn[len(arn)-1], Scope: waftypes.ScopeRegional})
	if err != nil {
		b.Fatal(err)
	}
	has("the WAF IP set", strings.Join(set.IPSet.Addresses, " "))
	has("the GCP access level", fmt.Sprint(st.gcp.Level(f.level)))
	has("the Azure vault", strings.Join(st.az.IPRules(f.vault), " "))
}
