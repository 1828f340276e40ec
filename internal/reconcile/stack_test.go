package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const project = "5aec7afbf7d068e35a39809b"

// kind describes one target type for the table of scenarios. The policy
// kinds are documents (policyOf, setLive); the network kinds
// (netkinds_test.go) read and edit their parts through their service
// (owned, setOwned, outside). getLive is the whole fence, as text.
type kind struct {
	name       config.TargetType
	sid        string
	writeOp    string   // the write a change makes
	alsoWrites []string // more write operations: a change counts once (the most of any)
	readOp     string
	alsoReads  []string // more reads of a run with nothing to change
	targetKeys string   // the target's kind-specific config lines
	create     func(t testing.TB, cfg aws.Config, values ...string) string
	// createIn, when set, makes the fence in the stack's own simulator,
	// whose config lines topKeys gives.
	createIn func(t testing.TB, s *stack, values ...string) string
	topKeys  func(s *stack) string
	policyOf func(sid string, values ...string) string
	setLive  func(t testing.TB, s *stack, doc string)
	getLive  func(t testing.TB, s *stack) string
	owned    func(t testing.TB, s *stack) []string
	setOwned func(t testing.TB, s *stack, values ...string)
	outside  func(t testing.TB, s *stack) any
	// notOwned makes the fence lack what ipsync owns, notOwnedWant is what
	// the plan's reason says then; nil: the kind's owned part may simply
	// be empty (its rules or entries).
	notOwned     func(t testing.TB, s *stack)
	notOwnedWant []string
	// tooMany addresses from Atlas do not fit; the reason says oversizeWant.
	tooMany      int
	oversizeWant string
	// recorded: the fence does not mark ipsync's part (Azure's IP rules);
	// what ipsync owns is what it wrote, so a rule a human adds is the
	// human's, and a first run owns nothing.
	recorded bool
}

// live is what the owned part allows now, as "a/32 b/32".
func (k kind) live(t testing.TB, s *stack) string {
	t.Helper()
	if k.owned != nil {
		return strings.Join(k.owned(t, s), " ")
	}
	return strings.Join(ownedValues(t, k.getLive(t, s), k.sid), " ")
}

// setOwnedTo is a human making the owned part allow values.
func (k kind) setOwnedTo(t testing.TB, s *stack, values ...string) {
	t.Helper()
	if k.setOwned != nil {
		k.setOwned(t, s, values...)
		return
	}
	k.setLive(t, s, k.policyOf(k.sid, values...))
}

// outsideNow is everything of the fence ipsync does not own.
func (k kind) outsideNow(t testing.TB, s *stack) any {
	t.Helper()
	if k.outside != nil {
		return k.outside(t, s)
	}
	return statementsBut(t, k.getLive(t, s), k.sid)
}

// writes counts the run's writes of the fence: one per change.
func (k kind) writes(s *stack) int {
	n := s.calls.Get(k.writeOp)
	for _, op := range k.alsoWrites {
		n = max(n, s.calls.Get(op))
	}
	return n
}

// reads are the calls a run with nothing to change makes of the fence.
func (k kind) reads() []string { return append([]string{k.readOp}, k.alsoReads...) }

var kinds = []kind{
	{
		name: kmspolicy.Type, sid: "AtlasIPAllowList", writeOp: "PutKeyPolicy", readOp: "GetKeyPolicy",
		create: func(t testing.TB, cfg aws.Config, values ...string) string {
			return testenv.CreateKey(t, cfg, testenv.KeyPolicy("AtlasIPAllowList", values...))
		},
		policyOf: testenv.KeyPolicy,
		tooMany:  3000, oversizeWant: "even compact",
		setLive: func(t testing.TB, s *stack, doc string) {
			_, err := kms.NewFromConfig(s.rawAWS).PutKeyPolicy(context.Background(), &kms.PutKeyPolicyInput{KeyId: &s.resource, PolicyName: aws.String("default"), Policy: &doc})
			if err != nil {
				t.Fatal(err)
			}
		},
		getLive: func(t testing.TB, s *stack) string {
			out, err := kms.NewFromConfig(s.rawAWS).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &s.resource, PolicyName: aws.String("default")})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.Policy)
		},
	},
	{
		name: vpcepolicy.Type, sid: "AtlasNodes", writeOp: "ModifyVpcEndpoint", readOp: "DescribeVpcEndpoints",
		create: func(t testing.TB, cfg aws.Config, values ...string) string {
			return testenv.CreateEndpoint(t, cfg, testenv.EndpointPolicy("AtlasNodes", values...))
		},
		policyOf: testenv.EndpointPolicy,
		tooMany:  3000, oversizeWant: "even compact",
		setLive: func(t testing.TB, s *stack, doc string) {
			_, err := ec2.NewFromConfig(s.rawAWS).ModifyVpcEndpoint(context.Background(), &ec2.ModifyVpcEndpointInput{VpcEndpointId: &s.resource, PolicyDocument: &doc})
			if err != nil {
				t.Fatal(err)
			}
		},
		getLive: func(t testing.TB, s *stack) string {
			out, err := ec2.NewFromConfig(s.rawAWS).DescribeVpcEndpoints(context.Background(), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{s.resource}})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.VpcEndpoints[0].PolicyDocument)
		},
	},
	{
		name: iamrolepolicy.Type, sid: "AtlasIPAllowList", writeOp: "PutRolePolicy", readOp: "GetRolePolicy",
		create: func(t testing.TB, cfg aws.Config, values ...string) string {
			return testenv.CreateRolePolicy(t, cfg, testenv.RolePolicy("AtlasIPAllowList", values...))
		},
		policyOf: testenv.RolePolicy,
		tooMany:  3000, oversizeWant: "even compact",
		setLive: func(t testing.TB, s *stack, doc string) {
			role, name, _ := strings.Cut(s.resource, "/")
			if _, err := iam.NewFromConfig(s.rawAWS).PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &doc}); err != nil {
				t.Fatal(err)
			}
		},
		getLive: func(t testing.TB, s *stack) string {
			role, name, _ := strings.Cut(s.resource, "/")
			out, err := iam.NewFromConfig(s.rawAWS).GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: &role, PolicyName: &name})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := url.PathUnescape(aws.ToString(out.PolicyDocument))
			if err != nil {
				t.Fatal(err)
			}
			return doc
		},
	},
	securityGroupKind,
	prefixListKind,
	ipSetKind,
	accessLevelKind,
	vaultKind,
}

// stack is one scenario's world: moto, the simulator, a target, a bucket, a
// topic with a queue subscribed, and a clock the test moves.
type stack struct {
	k        kind
	sim      *atlastest.Server
	gcp      *gcptest.Server // the GCP simulator of a gcp-access-level stack
	az       *azuretest.Server
	azOthers []string   // the rules a test put in the vault as somebody else
	rawAWS   aws.Config // without the counter
	awsCfg   aws.Config
	calls    *testenv.Calls
	resource string
	bucket   string
	topicArn string
	queueURL string
	cfg      *config.Config
	now      time.Time
	mu       sync.Mutex
}

var seq struct {
	sync.Mutex
	n int
}

func uniq(prefix string) string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.n)
}

func controlPlane(outbound ...string) atlastest.ControlPlaneIPs {
	return atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": outbound}}}
}

func newStack(t testing.TB, k kind, extraConfig string) *stack {
	t.Helper()
	moto := testenv.SharedMoto(t)
	s := &stack{k: k, now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	s.rawAWS = moto.AWSConfig(t)
	s.awsCfg = moto.AWSConfig(t)
	s.calls = testenv.CountCalls(&s.awsCfg)

	s.sim = atlastest.New()
	if _, err := s.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.sim.Close() })
	s.sim.AddAPIKey("pub", "priv")
	s.sim.SetControlPlane(controlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42"))
	s.sim.SetProject(project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})

	ctx := context.Background()
	if k.createIn != nil {
		s.resource = k.createIn(t, s, "192.0.2.0/32")
	} else {
		s.resource = k.create(t, s.rawAWS, "192.0.2.0/32")
	}
	if s.bucket == "" {
		s.bucket = uniq("ipsync")
	}
	if _, err := s3.NewFromConfig(s.rawAWS, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.bucket}); err != nil {
		t.Fatal(err)
	}
	topic, err := sns.NewFromConfig(s.rawAWS).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(uniq("alerts"))})
	if err != nil {
		t.Fatal(err)
	}
	s.topicArn = aws.ToString(topic.TopicArn)
	q := sqs.NewFromConfig(s.rawAWS)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(uniq("oncall"))})
	if err != nil {
		t.Fatal(err)
	}
	s.queueURL = aws.ToString(queue.QueueUrl)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &s.queueURL, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(s.rawAWS).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &s.topicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	s.cfg = s.config(t, extraConfig)
	return s
}

func (s *stack) config(t testing.TB, extra string) *config.Config {
	t.Helper()
	doc := fmt.Sprintf(`
atlas:
  baseURL: %s
  projects: [%q]
snapshot:
  url: s3://%s/ipsync/snapshot.json
notify:
  topicArn: %s
targets:
  - name: target
    type: %s
    resource: %s
    sid: %q
    sources: [control-plane-outbound, nodes-outbound]
%s%s
%s`, s.sim.URL(), project, s.bucket, s.topicArn, s.k.name, s.resource, s.k.sid, s.k.targetKeys, extra, s.top())
	c, err := configfile.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc)
	}
	return c
}

func (s *stack) top() string {
	if s.k.topKeys == nil {
		return ""
	}
	return s.k.topKeys(s)
}

func (s *stack) deps(t testing.TB) reconcile.Deps {
	t.Helper()
	env := map[string]string{"ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": "priv"}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	d, err := reconciler.Deps(context.Background(), s.cfg, s.awsCfg, func(k string) string { return env[k] }, log)
	if err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }
	return d
}

func (s *stack) advance(d time.Duration) { s.mu.Lock(); s.now = s.now.Add(d); s.mu.Unlock() }

func (s *stack) run(t testing.TB, o reconcile.Options) reconcile.Report {
	t.Helper()
	o.VerifyWait = 10 * time.Millisecond
	return reconcile.Run(context.Background(), s.cfg, s.deps(t), o)
}

// runWith runs once with ctx, o and the deps as edit leaves them.
func (s *stack) runWith(t testing.TB, ctx context.Context, o reconcile.Options, edit func(*reconcile.Deps)) reconcile.Report {
	t.Helper()
	d := s.deps(t)
	edit(&d)
	return reconcile.Run(ctx, s.cfg, d, o)
}

// alertMsg is an SNS notification as it lands in a subscribed SQS queue.
type alertMsg struct {
	MessageID         string `json:"MessageId"`
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

func (m alertMsg) event() string { return m.MessageAttributes["event"].Value }

// alerts drains the on-call queue. SNS delivers at least once (and the
// SDK retries a publish whose answer it did not get): in one full run of
// the suite, one alert arrived twice. An alert identical to one already
// drained is dropped, and logged with both SNS message ids; tests that must
// know how many alerts the run sent count its Publish calls (s.calls),
// which the SDK's retries do not multiply.
func (s *stack) alerts(t testing.TB) []alertMsg {
	t.Helper()
	q := sqs.NewFromConfig(s.rawAWS)
	var out []alertMsg
	seen := map[[3]string]string{}
	for {
		res, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &s.queueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var a alertMsg
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &a); err != nil {
				t.Fatalf("alert body: %v", err)
			}
			key := [3]string{a.event(), a.Subject, a.Message}
			if first, dup := seen[key]; dup {
				t.Logf("alert %s %q delivered again (SNS message ids %s, %s)", a.event(), a.Subject, first, a.MessageID)
			} else {
				seen[key] = a.MessageID
				out = append(out, a)
			}
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &s.queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func events(ms []alertMsg) string {
	var e []string
	for _, m := range ms {
		e = append(e, m.event())
	}
	return strings.Join(e, ",")
}

// statementsBut returns the policy's statements other than sid, as values.
func statementsBut(t testing.TB, doc, sid string) []any {
	t.Helper()
	var p struct {
		Statement []map[string]any
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy: %v", err)
	}
	var out []any
	for _, st := range p.Statement {
		if st["Sid"] != sid {
			out = append(out, st)
		}
	}
	return out
}

func s3Client(s *stack) *s3.Client {
	return s3.NewFromConfig(s.rawAWS, func(o *s3.Options) { o.UsePathStyle = true })
}
