package reconciletest

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
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/azure/azuretest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/configfile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/gcp/gcptest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/reconcile"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire/reconciler"
)

const Project = "5aec7afbf7d068e35a39809b"

// Kind describes one target type for the table of scenarios. The policy
// kinds are documents (policyOf, setLive); the network kinds
// (netkinds_test.go) read and edit their parts through their service
// (owned, setOwned, outside). getLive is the whole fence, as text.
type Kind struct {
	Name       config.TargetType
	Sid        string
	WriteOp    string   // the write a change makes
	AlsoWrites []string // more write operations: a change counts once (the most of any)
	ReadOp     string
	AlsoReads  []string // more reads of a run with nothing to change
	TargetKeys string   // the target's kind-specific config lines
	Create     func(t testing.TB, cfg aws.Config, values ...string) string
	// CreateIn, when set, makes the fence in the stack's own simulator,
	// whose config lines topKeys gives.
	CreateIn func(t testing.TB, s *Stack, values ...string) string
	TopKeys  func(s *Stack) string
	PolicyOf func(sid string, values ...string) string
	SetLive  func(t testing.TB, s *Stack, doc string)
	GetLive  func(t testing.TB, s *Stack) string
	Owned    func(t testing.TB, s *Stack) []string
	SetOwned func(t testing.TB, s *Stack, values ...string)
	Outside  func(t testing.TB, s *Stack) any
	// NotOwned makes the fence lack what ipsync owns, notOwnedWant is what
	// the plan's reason says then; nil: the kind's owned part may simply
	// be empty (its rules or entries).
	NotOwned     func(t testing.TB, s *Stack)
	NotOwnedWant []string
	// TooMany addresses from Atlas do not fit; the reason says oversizeWant.
	TooMany      int
	OversizeWant string
	// Recorded: the fence does not mark ipsync's part (Azure's IP rules);
	// what ipsync owns is what it wrote, so a rule a human adds is the
	// human's, and a first run owns nothing.
	Recorded bool
}

// Live is what the owned part allows now, as "a/32 b/32".
func (k Kind) Live(t testing.TB, s *Stack) string {
	t.Helper()
	if k.Owned != nil {
		return strings.Join(k.Owned(t, s), " ")
	}
	return strings.Join(OwnedValues(t, k.GetLive(t, s), k.Sid), " ")
}

// SetOwnedTo is a human making the owned part allow values.
func (k Kind) SetOwnedTo(t testing.TB, s *Stack, values ...string) {
	t.Helper()
	if k.SetOwned != nil {
		k.SetOwned(t, s, values...)
		return
	}
	k.SetLive(t, s, k.PolicyOf(k.Sid, values...))
}

// OutsideNow is everything of the fence ipsync does not own.
func (k Kind) OutsideNow(t testing.TB, s *Stack) any {
	t.Helper()
	if k.Outside != nil {
		return k.Outside(t, s)
	}
	return StatementsBut(t, k.GetLive(t, s), k.Sid)
}

// Writes counts the run's Writes of the fence: one per change.
func (k Kind) Writes(s *Stack) int {
	n := s.Calls.Get(k.WriteOp)
	for _, op := range k.AlsoWrites {
		n = max(n, s.Calls.Get(op))
	}
	return n
}

// Reads are the calls a run with nothing to change makes of the fence.
func (k Kind) Reads() []string { return append([]string{k.ReadOp}, k.AlsoReads...) }

var Kinds = []Kind{
	{
		Name: kmspolicy.Type, Sid: "AtlasIPAllowList", WriteOp: "PutKeyPolicy", ReadOp: "GetKeyPolicy",
		Create: func(t testing.TB, cfg aws.Config, values ...string) string {
			return testenv.CreateKey(t, cfg, testenv.KeyPolicy("AtlasIPAllowList", values...))
		},
		PolicyOf: testenv.KeyPolicy,
		TooMany:  3000, OversizeWant: "even compact",
		SetLive: func(t testing.TB, s *Stack, doc string) {
			_, err := kms.NewFromConfig(s.RawAWS).PutKeyPolicy(context.Background(), &kms.PutKeyPolicyInput{KeyId: &s.Resource, PolicyName: aws.String("default"), Policy: &doc})
			if err != nil {
				t.Fatal(err)
			}
		},
		GetLive: func(t testing.TB, s *Stack) string {
			out, err := kms.NewFromConfig(s.RawAWS).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &s.Resource, PolicyName: aws.String("default")})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.Policy)
		},
	},
	{
		Name: vpcepolicy.Type, Sid: "AtlasNodes", WriteOp: "ModifyVpcEndpoint", ReadOp: "DescribeVpcEndpoints",
		Create: func(t testing.TB, cfg aws.Config, values ...string) string {
			return testenv.CreateEndpoint(t, cfg, testenv.EndpointPolicy("AtlasNodes", values...))
		},
		PolicyOf: testenv.EndpointPolicy,
		TooMany:  3000, OversizeWant: "even compact",
		SetLive: func(t testing.TB, s *Stack, doc string) {
			_, err := ec2.NewFromConfig(s.RawAWS).ModifyVpcEndpoint(context.Background(), &ec2.ModifyVpcEndpointInput{VpcEndpointId: &s.Resource, PolicyDocument: &doc})
			if err != nil {
				t.Fatal(err)
			}
		},
		GetLive: func(t testing.TB, s *Stack) string {
			out, err := ec2.NewFromConfig(s.RawAWS).DescribeVpcEndpoints(context.Background(), &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{s.Resource}})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.VpcEndpoints[0].PolicyDocument)
		},
	},
	{
		Name: iamrolepolicy.Type, Sid: "AtlasIPAllowList", WriteOp: "PutRolePolicy", ReadOp: "GetRolePolicy",
		Create: func(t testing.TB, cfg aws.Config, values ...string) string {
			return testenv.CreateRolePolicy(t, cfg, testenv.RolePolicy("AtlasIPAllowList", values...))
		},
		PolicyOf: testenv.RolePolicy,
		TooMany:  3000, OversizeWant: "even compact",
		SetLive: func(t testing.TB, s *Stack, doc string) {
			role, name, _ := strings.Cut(s.Resource, "/")
			if _, err := iam.NewFromConfig(s.RawAWS).PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &doc}); err != nil {
				t.Fatal(err)
			}
		},
		GetLive: func(t testing.TB, s *Stack) string {
			role, name, _ := strings.Cut(s.Resource, "/")
			out, err := iam.NewFromConfig(s.RawAWS).GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: &role, PolicyName: &name})
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
	SecurityGroupKind,
	PrefixListKind,
	IPSetKind,
	AccessLevelKind,
	VaultKind,
}

// Stack is one scenario's world: moto, the simulator, a target, a bucket, a
// topic with a queue subscribed, and a clock the test moves.
type Stack struct {
	K        Kind
	Sim      *atlastest.Server
	GCP      *gcptest.Server // the GCP simulator of a gcp-access-level stack
	Az       *azuretest.Server
	AzOthers []string   // the rules a test put in the vault as somebody else
	RawAWS   aws.Config // without the counter
	AWSCfg   aws.Config
	Calls    *testenv.Calls
	Resource string
	Bucket   string
	TopicArn string
	QueueURL string
	Cfg      *config.Config
	Now      time.Time
	mu       sync.Mutex
}

var seq struct {
	sync.Mutex
	n int
}

func Uniq(prefix string) string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.n)
}

func ControlPlane(outbound ...string) atlastest.ControlPlaneIPs {
	return atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": outbound}}}
}

func NewStack(t testing.TB, k Kind, extraConfig string) *Stack {
	t.Helper()
	moto := testenv.SharedMoto(t)
	s := &Stack{K: k, Now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	s.RawAWS = moto.AWSConfig(t)
	s.AWSCfg = moto.AWSConfig(t)
	s.Calls = testenv.CountCalls(&s.AWSCfg)

	s.Sim = atlastest.New()
	if _, err := s.Sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Sim.Close() })
	s.Sim.AddAPIKey("pub", "priv")
	s.Sim.SetControlPlane(ControlPlane("3.92.113.229", "3.212.79.116", "34.193.91.42"))
	s.Sim.SetProject(Project, atlastest.Cluster{ClusterName: "c0", Outbound: []string{"198.51.100.10"}})

	ctx := context.Background()
	if k.CreateIn != nil {
		s.Resource = k.CreateIn(t, s, "192.0.2.0/32")
	} else {
		s.Resource = k.Create(t, s.RawAWS, "192.0.2.0/32")
	}
	if s.Bucket == "" {
		s.Bucket = Uniq("ipsync")
	}
	if _, err := s3.NewFromConfig(s.RawAWS, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket}); err != nil {
		t.Fatal(err)
	}
	topic, err := sns.NewFromConfig(s.RawAWS).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(Uniq("alerts"))})
	if err != nil {
		t.Fatal(err)
	}
	s.TopicArn = aws.ToString(topic.TopicArn)
	q := sqs.NewFromConfig(s.RawAWS)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(Uniq("oncall"))})
	if err != nil {
		t.Fatal(err)
	}
	s.QueueURL = aws.ToString(queue.QueueUrl)
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &s.QueueURL, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.NewFromConfig(s.RawAWS).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &s.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	s.Cfg = s.Config(t, extraConfig)
	return s
}

func (s *Stack) Config(t testing.TB, extra string) *config.Config {
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
%s`, s.Sim.URL(), Project, s.Bucket, s.TopicArn, s.K.Name, s.Resource, s.K.Sid, s.K.TargetKeys, extra, s.Top())
	c, err := configfile.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, doc)
	}
	return c
}

func (s *Stack) Top() string {
	if s.K.TopKeys == nil {
		return ""
	}
	return s.K.TopKeys(s)
}

func (s *Stack) Deps(t testing.TB) reconcile.Deps {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	d, err := reconciler.DepsFor(s.Cfg, s.AWSCfg, AtlasClient(t, s.Sim.URL(), log), log)
	if err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.Now }
	return d
}

func (s *Stack) Advance(d time.Duration) { s.mu.Lock(); s.Now = s.Now.Add(d); s.mu.Unlock() }

func (s *Stack) Run(t testing.TB, o reconcile.Options) reconcile.Report {
	t.Helper()
	o.VerifyWait = 10 * time.Millisecond
	return reconcile.Run(context.Background(), s.Cfg, s.Deps(t), o)
}

// RunWith runs once with ctx, o and the deps as edit leaves them.
func (s *Stack) RunWith(t testing.TB, ctx context.Context, o reconcile.Options, edit func(*reconcile.Deps)) reconcile.Report {
	t.Helper()
	d := s.Deps(t)
	edit(&d)
	return reconcile.Run(ctx, s.Cfg, d, o)
}

// AlertMsg is an SNS notification as it lands in a subscribed SQS queue.
type AlertMsg struct {
	MessageID         string `json:"MessageId"`
	Subject           string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

func (m AlertMsg) Event() string { return m.MessageAttributes["event"].Value }

// Alerts drains the on-call queue. SNS delivers at least once (and the
// SDK retries a publish whose answer it did not get): in one full run of
// the suite, one alert arrived twice. An alert identical to one already
// drained is dropped, and logged with both SNS message ids; tests that must
// know how many Alerts the run sent count its Publish calls (s.calls),
// which the SDK's retries do not multiply.
func (s *Stack) Alerts(t testing.TB) []AlertMsg {
	t.Helper()
	q := sqs.NewFromConfig(s.RawAWS)
	var out []AlertMsg
	seen := map[[3]string]string{}
	for {
		res, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &s.QueueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return out
		}
		for _, m := range res.Messages {
			var a AlertMsg
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &a); err != nil {
				t.Fatalf("alert body: %v", err)
			}
			key := [3]string{a.Event(), a.Subject, a.Message}
			if first, dup := seen[key]; dup {
				t.Logf("alert %s %q delivered again (SNS message ids %s, %s)", a.Event(), a.Subject, first, a.MessageID)
			} else {
				seen[key] = a.MessageID
				out = append(out, a)
			}
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &s.QueueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func Events(ms []AlertMsg) string {
	var e []string
	for _, m := range ms {
		e = append(e, m.Event())
	}
	return strings.Join(e, ",")
}

// StatementsBut returns the policy's statements other than sid, as values.
func StatementsBut(t testing.TB, doc, sid string) []any {
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

func S3Client(s *Stack) *s3.Client {
	return s3.NewFromConfig(s.RawAWS, func(o *s3.Options) { o.UsePathStyle = true })
}

// Store is the stack's snapshot store.
func (s *Stack) Store() snapshot.Store {
	return snapshotstore.NewS3Store(S3Client(s), s.Bucket, "ipsync/snapshot.json")
}

// AsRole is cfg acting in another account (moto keeps accounts apart by
// the assumed role's credentials).
func AsRole(cfg aws.Config, roleArn, externalID string) aws.Config {
	c := cfg.Copy()
	c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleArn, func(o *stscreds.AssumeRoleOptions) {
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	}))
	return c
}

// KeyValues is what the owned statement of a key policy allows, as "a/32 b/32".
func KeyValues(t *testing.T, cfg aws.Config, key string) string {
	t.Helper()
	out, err := kms.NewFromConfig(cfg).GetKeyPolicy(context.Background(), &kms.GetKeyPolicyInput{KeyId: &key, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatalf("read key %s: %v", key, err)
	}
	return strings.Join(OwnedValues(t, aws.ToString(out.Policy), "AtlasIPAllowList"), " ")
}

// AtlasClient is a client of the stack's Atlas simulator whose retries
// wait 5 ms, not Atlas's 500 ms and more: the rows that exhaust the retry
// budget test that it ends, not how long Atlas asks a client to wait.
func AtlasClient(t testing.TB, baseURL string, log *slog.Logger) *atlas.Client {
	t.Helper()
	c, err := atlas.New(atlas.Options{BaseURL: baseURL, Credentials: atlas.Credentials{PublicKey: "pub", PrivateKey: "priv"}, Logger: log, InitialBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
