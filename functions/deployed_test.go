package functions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// The deployed-roles test: the functions run with the IAM roles SAM creates
// from template.yaml, on a moto that enforces IAM, so a permission the
// template forgets fails here instead of on the first deploy.
//
// moto's enforcement, as measured: for KMS, SNS, Secrets Manager, EC2 and WAFv2 it
// matches every request against the resource "*", so a statement naming an
// ARN never matches there; those services' statements are widened to "*" in
// the test (TestWriteActionsAreScoped keeps their scoping). S3, SQS, IAM and
// STS are checked against the real ARNs and stay exact. moto refuses a
// policy without Version, which SAM's statements lack: the test adds it.
// The managed policies SAM attaches (logs, Lambda's own SQS poller) are left
// out: the code calls neither.

type template struct {
	Parameters map[string]struct {
		Type           string
		Default        any
		AllowedPattern string
	}
	Conditions map[string]any
	Resources  map[string]struct {
		Type       string
		Properties map[string]any
	}
}

// translate runs aws-sam-translator (installed with cfn-lint) on template.yaml.
func translate(t *testing.T) template {
	t.Helper()
	python := "python3"
	if exec.Command(python, "-c", "import samtranslator").Run() != nil {
		python = "../.venv/bin/python3" // where infra/tools.sh installs it
	}
	out, err := exec.Command(python, "../infra/samtranslate.py", "../template.yaml").Output()
	var exit *exec.ExitError
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) || errors.As(err, &exit) && strings.Contains(string(exit.Stderr), "No module named 'samtranslator'") {
		testenv.Missing(t, "python3 with aws-sam-translator (make tools installs it): %v", err)
	}
	if err != nil {
		t.Fatalf("sam translate: %v\n%s", err, out)
	}
	var tpl template
	if err := json.Unmarshal(out, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// adminConfig spends moto's unauthenticated requests on an admin user and
// returns a config signed with its key.
func adminConfig(t *testing.T, endpoint string) aws.Config {
	t.Helper()
	ctx := context.Background()
	boot := iam.NewFromConfig(testenv.AWSConfigAt(t, endpoint))
	if _, err := boot.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")}); err != nil {
		t.Fatal(err)
	}
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	if _, err := boot.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("all"), PolicyDocument: &all}); err != nil {
		t.Fatal(err)
	}
	key, err := boot.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testenv.AWSConfigAt(t, endpoint)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	return cfg
}

// deployment is one stack's worth of resources in moto, and the values
// CloudFormation would give the template's parameters and resources.
type deployment struct {
	admin    aws.Config
	keys     *roleKeys
	resolver *cfn
	key      string // ARN
	endpoint string
	rolePol  string // ROLE/POLICY
	natIP    string
	group    string // security group id
	list     string // prefix list id
	ipSet    string // WAF IP set ARN
	trigger  string // queue URL
	suffix   string
}

const deployProject = "5aec7afbf7d068e35a39809b"

func deploy(t *testing.T, tpl template, admin aws.Config, keys *roleKeys, sim *atlastest.Server, viaRole bool) *deployment {
	t.Helper()
	ctx := context.Background()
	d := &deployment{admin: admin, keys: keys, suffix: fmt.Sprint(time.Now().UnixNano())}
	keyID := testenv.CreateKey(t, admin, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	d.key = "arn:aws:kms:us-east-1:123456789012:key/" + keyID
	d.endpoint = testenv.CreateEndpoint(t, admin, testenv.EndpointPolicy("AtlasNodes", "192.0.2.0/32"))
	d.rolePol = testenv.CreateRolePolicy(t, admin, testenv.RolePolicy("AtlasIPAllowList", "192.0.2.0/32"))
	d.natIP = testenv.CreateNatGateway(t, admin, "prod-egress-"+d.suffix)
	d.group = testenv.CreateSecurityGroup(t, admin)
	d.list = testenv.CreatePrefixList(t, admin, "IPv4", 10, testenv.PrefixListEntry{CIDR: "10.9.0.0/16", Description: "office"})
	d.ipSet = testenv.CreateIPSet(t, admin, "atlas-ip-sync webhook receiver", "IPV4")
	bucket := "ipsync-deployed-" + d.suffix
	if _, err := s3.NewFromConfig(admin, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	topic, err := sns.NewFromConfig(admin).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts-" + d.suffix)})
	if err != nil {
		t.Fatal(err)
	}
	queue := func(name string, attrs map[string]string) (url, arn string) {
		q := sqs.NewFromConfig(admin)
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
	}
	triggerName := "triggers-" + d.suffix + ".fifo"
	var triggerArn string
	d.trigger, triggerArn = queue(triggerName, map[string]string{"FifoQueue": "true"})
	failureURL, failureArn := queue("failures-"+d.suffix, nil)
	secret := func(name, value string) string {
		out, err := secretsmanager.NewFromConfig(admin).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(out.ARN)
		if p := tpl.Parameters["AtlasSecretArn"].AllowedPattern; !regexp.MustCompile(p).MatchString(arn) {
			t.Fatalf("a real secret ARN %s does not match the template's pattern %s", arn, p)
		}
		return arn
	}
	webhookSecret, err := os.ReadFile("../events/webhook-secret.txt")
	if err != nil {
		t.Fatal(err)
	}
	roleName, policyName, _ := strings.Cut(d.rolePol, "/")
	params := map[string]any{}
	for name, p := range tpl.Parameters {
		def := fmt.Sprint(p.Default)
		if p.Default == nil {
			def = ""
		}
		params[name] = def
		if p.Type == "CommaDelimitedList" {
			params[name] = strings.Split(def, ",")
		}
	}
	for k, v := range map[string]any{
		"AtlasProjectIds": []string{deployProject}, "AtlasBaseUrl": sim.URL(),
		"AtlasSecretArn":   secret("atlas-"+d.suffix, `{"publicKey":"pub","privateKey":"priv-S3CRET"}`),
		"WebhookSecretArn": secret("webhook-"+d.suffix, string(webhookSecret)),
		"KeyArns":          []string{d.key}, "EndpointIds": []string{d.endpoint},
		"KeySources": `"control-plane-outbound"`, "EndpointSources": `"nodes"`,
		"EncryptionAtRestProjectIds": []string{deployProject}, "VerifyWindow": "0s",
		"AtlasRoleName": roleName, "AtlasRolePolicyName": policyName,
		"AccessListProjectIds": []string{deployProject}, "NatGatewayTag": "Name=prod-egress-" + d.suffix,
		"WebhookCheckSource": "true",
		"SecurityGroupIds":   []string{d.group}, "PrefixListIds": []string{d.list}, "WafIpSetArns": []string{d.ipSet},
	} {
		params[k] = v
	}
	if viaRole {
		params["TargetRoleArn"] = d.targetRole(t, roleName)
	}
	d.resolver = &cfn{
		params: params,
		refs:   map[string]string{"SnapshotBucket": bucket, "AlertTopic": aws.ToString(topic.TopicArn), "TriggerQueue": d.trigger, "FailureQueue": failureURL},
		attrs: map[string]string{"SnapshotBucket.Arn": "arn:aws:s3:::" + bucket, "TriggerQueue.Arn": triggerArn, "FailureQueue.Arn": failureArn,
			"TriggerQueue.QueueName": triggerName},
		conds: tpl.Conditions, done: map[string]bool{},
	}
	return d
}

// targetRole is the role "in another account" that TargetRoleArn names:
// what docs/operations.md "Targets in other accounts" says it needs (here in the same
// moto account).
func (d *deployment) targetRole(t *testing.T, atlasRole string) string {
	t.Helper()
	name := "ipsync-target-" + d.suffix
	perms := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["kms:GetKeyPolicy","kms:PutKeyPolicy","ec2:DescribeVpcEndpoints","ec2:ModifyVpcEndpoint",
		  "ec2:DescribeSecurityGroupRules","ec2:DescribeSecurityGroups","ec2:AuthorizeSecurityGroupEgress","ec2:RevokeSecurityGroupEgress",
		  "ec2:DescribeManagedPrefixLists","ec2:GetManagedPrefixListEntries","ec2:ModifyManagedPrefixList","wafv2:GetIPSet","wafv2:UpdateIPSet"],"Resource":"*"},
		{"Effect":"Allow","Action":["iam:GetRolePolicy","iam:PutRolePolicy","iam:ListRolePolicies"],"Resource":"arn:aws:iam::123456789012:role/%s"}]}`, atlasRole)
	return createRole(t, d.admin, name, map[string]string{"target": perms})
}

func createRole(t *testing.T, admin aws.Config, name string, policies map[string]string) string {
	t.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(admin)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &name, AssumeRolePolicyDocument: &trust})
	if err != nil {
		t.Fatal(err)
	}
	for pname, doc := range policies {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &name, PolicyName: aws.String(pname), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatalf("put %s policy %s: %v\n%s", name, pname, err, doc)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// moto matches these services' requests against "*" only.
var motoMatchesStar = []string{"kms", "sns", "secretsmanager", "ec2", "wafv2"}

// rolePolicies resolves a translated role's inline policies, less drop
// (an action to take out), as moto needs them.
func (d *deployment) rolePolicies(t *testing.T, tpl template, role, drop string) map[string]string {
	t.Helper()
	res, err := d.resolver.resolve(tpl.Resources[role].Properties["Policies"])
	if err != nil {
		t.Fatalf("%s: %v", role, err)
	}
	out := map[string]string{}
	for _, p := range res.([]any) {
		pol := p.(map[string]any)
		doc := pol["PolicyDocument"].(map[string]any)
		doc["Version"] = "2012-10-17"
		var kept []any
		for _, s := range doc["Statement"].([]any) {
			st := s.(map[string]any)
			actions, err := strs(st["Action"])
			if err != nil {
				actions = []string{st["Action"].(string)}
			}
			actions = slices.DeleteFunc(actions, func(a string) bool { return a == drop })
			if len(actions) == 0 {
				continue // IAM refuses a statement without actions
			}
			st["Action"] = actions
			kept = append(kept, st)
			star := true
			for _, a := range actions {
				service, _, _ := strings.Cut(a, ":")
				star = star && slices.Contains(motoMatchesStar, service)
			}
			if star {
				st["Resource"] = "*"
			}
		}
		doc["Statement"] = kept
		b, _ := json.Marshal(doc)
		out[pol["PolicyName"].(string)] = string(b)
	}
	return out
}

// assume creates the role and returns the environment a function running
// as it would have.
func (d *deployment) assume(t *testing.T, tpl template, endpoint, role, drop string) []string {
	t.Helper()
	policies := d.rolePolicies(t, tpl, role, drop)
	arn := createRole(t, d.admin, role+"-"+d.suffix, policies)
	out, err := sts.NewFromConfig(d.admin).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: &arn, RoleSessionName: aws.String("ipsync-deployed")})
	if err != nil {
		t.Fatal(err)
	}
	d.keys.add(aws.ToString(out.Credentials.AccessKeyId), policies)
	cfg, err := d.resolver.resolve(tpl.Resources[strings.TrimSuffix(role, "Role")].Properties["Environment"])
	if err != nil {
		t.Fatalf("%s environment: %v", role, err)
	}
	config := cfg.(map[string]any)["Variables"].(map[string]any)["IPSYNC_CONFIG"].(string)
	c := out.Credentials
	return []string{"IPSYNC_CONFIG=" + config, "AWS_ENDPOINT_URL=" + endpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + aws.ToString(c.AccessKeyId), "AWS_SECRET_ACCESS_KEY=" + aws.ToString(c.SecretAccessKey), "AWS_SESSION_TOKEN=" + aws.ToString(c.SessionToken),
		"AWS_LAMBDA_FUNCTION_NAME=ipsync-deployed"}
}

func TestDeployedRoles(t *testing.T) {
	tpl := translate(t)
	moto, err := testenv.StartMotoWith("INITIAL_NO_AUTH_ACTION_COUNT=3")
	if err != nil {
		testenv.Missing(t, "moto_server with IAM enforcement: %v", err)
	}
	t.Cleanup(moto.Stop)
	admin := adminConfig(t, moto.Endpoint)
	// moto answers a missing key with 404 whatever the caller may do; S3
	// answers 403 to a caller without s3:ListBucket. The proxy answers as
	// S3 does, judging the role's own statements.
	proxy, err := testenv.StartFaultProxy(moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	keys := &roleKeys{policies: map[string]map[string]string{}}
	proxy.DenyMissingKeysTo(func(key, bucket string) bool { return keys.lacks(key, "s3:ListBucket", "arn:aws:s3:::"+bucket) })
	endpoint := proxy.URL
	reconcileBin, webhookBin := build(t, "reconcile"), build(t, "webhook")
	sim := atlastest.New()
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sim.AddAPIKey("pub", "priv-S3CRET")
	// The sample webhook event comes from 3.92.113.229.
	sim.SetControlPlane(atlastest.ControlPlaneIPs{Outbound: map[string]map[string][]string{"aws": {"us-east-1": {"3.92.113.229", "3.212.79.116"}}}})
	sim.SetProject(deployProject, atlastest.Cluster{ClusterName: "c0", Inbound: []string{"198.51.100.9"}, Outbound: []string{"198.51.100.10"}})
	sim.SetEncryptionAtRestValid(deployProject, true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schedule, err := os.ReadFile("../events/schedule.json")
	if err != nil {
		t.Fatal(err)
	}

	for _, viaRole := range []bool{false, true} {
		t.Run(fmt.Sprintf("TargetRoleArn=%v", viaRole), func(t *testing.T) {
			d := deploy(t, tpl, admin, keys, sim, viaRole)
			rec, recLogs := start(t, reconcileBin, d.assume(t, tpl, endpoint, "ReconcileFunctionRole", ""))
			if res, err := rec.Invoke(ctx, schedule); err != nil || res.Error != nil {
				t.Fatalf("scheduled run as the function's role: %v %s\nlogs:\n%s", err, res.Error, recLogs)
			}
			d.checkFences(t)
			hook, hookLogs := start(t, webhookBin, d.assume(t, tpl, endpoint, "WebhookFunctionRole", ""))
			ev, _ := os.ReadFile("../events/webhook-url-request.json")
			res, err := hook.Invoke(ctx, ev)
			var resp events.LambdaFunctionURLResponse
			if err != nil || json.Unmarshal(res.Response, &resp) != nil || resp.StatusCode != 202 {
				t.Fatalf("webhook as its role: %v %s %s\nlogs:\n%s", err, res.Response, res.Error, hookLogs)
			}
			msgs, err := sqs.NewFromConfig(admin).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &d.trigger, MaxNumberOfMessages: 10})
			if err != nil || len(msgs.Messages) != 1 {
				t.Fatalf("trigger queue holds %d messages (%v), want 1", len(msgs.Messages), err)
			}
			m := msgs.Messages[0]
			batch, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body), EventSource: "aws:sqs", AWSRegion: "us-east-1"}}})
			if res, err := rec.Invoke(ctx, batch); err != nil || res.Error != nil {
				t.Fatalf("queued run as the function's role: %v %s\nlogs:\n%s", err, res.Error, recLogs)
			}
		})
	}

	// The same run with one action taken out of the role fails, naming it:
	// the test sees a missing permission.
	for _, tc := range []struct{ drop, want string }{
		// moto answers KMS's AccessDenied as XML, which the SDK cannot
		// decode for a JSON service: the error carries the 403, not the code.
		{"kms:GetKeyPolicy", "StatusCode: 403"},
		{"s3:ListBucket", "s3:ListBucket on arn:aws:s3:::ipsync-deployed-"},
	} {
		t.Run("without "+tc.drop, func(t *testing.T) {
			d := deploy(t, tpl, admin, keys, sim, false)
			rec, recLogs := start(t, reconcileBin, d.assume(t, tpl, endpoint, "ReconcileFunctionRole", tc.drop))
			res, err := rec.Invoke(ctx, schedule)
			if err != nil {
				t.Fatal(err)
			}
			if res.Error == nil || !strings.Contains(string(res.Error), tc.want) {
				t.Fatalf("run without %s: %s\nlogs:\n%s", tc.drop, res.Error, recLogs)
			}
		})
	}
}

// roleKeys remembers which role's statements each assumed key carries.
type roleKeys struct {
	mu       sync.Mutex
	policies map[string]map[string]string // access key id → policy name → document
}

func (k *roleKeys) add(key string, policies map[string]string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.policies[key] = policies
}

// lacks: the key is a role's, and none of its statements allows action on
// resource (an exact resource, "*" or a glob). Other keys (the admin) may
// do anything.
func (k *roleKeys) lacks(key, action, resource string) bool {
	k.mu.Lock()
	docs, ok := k.policies[key]
	k.mu.Unlock()
	if !ok {
		return false
	}
	for _, doc := range docs {
		var p struct {
			Statement []struct {
				Effect   string
				Action   any
				Resource any
			}
		}
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return true
		}
		for _, st := range p.Statement {
			actions, _ := strs(st.Action)
			resources, err := strs(st.Resource)
			if err != nil {
				resources = []string{fmt.Sprint(st.Resource)}
			}
			if st.Effect != "Allow" || !slices.Contains(actions, action) {
				continue
			}
			for _, r := range resources {
				if ok, _ := path.Match(r, resource); ok {
					return false
				}
			}
		}
	}
	return true
}

// checkFences reads every fence the template configured with the admin's
// credentials and checks it allows what Atlas and the NAT gateway say.
func (d *deployment) checkFences(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	kp, err := kms.NewFromConfig(d.admin).GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &d.key, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := ec2.NewFromConfig(d.admin).DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{d.endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	role, name, _ := strings.Cut(d.rolePol, "/")
	rp, err := iam.NewFromConfig(d.admin).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &role, PolicyName: &name})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ec2.NewFromConfig(d.admin).DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{d.group}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules.SecurityGroupRules {
		got = append(got, fmt.Sprintf("%v %s %d-%d %s %s", aws.ToBool(r.IsEgress), aws.ToString(r.IpProtocol), aws.ToInt32(r.FromPort), aws.ToInt32(r.ToPort), aws.ToString(r.CidrIpv4), aws.ToString(r.Description)))
	}
	if strings.Join(got, "; ") != "true tcp 27015-27017 198.51.100.9/32 atlas-ip-sync: managed" {
		t.Errorf("security group rules: %v", got)
	}
	entries, err := ec2.NewFromConfig(d.admin).GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &d.list})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, e := range entries.Entries {
		got = append(got, aws.ToString(e.Cidr)+" "+aws.ToString(e.Description))
	}
	if slices.Sort(got); strings.Join(got, "; ") != "10.9.0.0/16 office; 198.51.100.9/32 atlas-ip-sync: managed" {
		t.Errorf("prefix list entries: %v", got)
	}
	parts := strings.Split(d.ipSet, "/")
	set, err := wafv2.NewFromConfig(d.admin).GetIPSet(ctx, &wafv2.GetIPSetInput{Name: &parts[2], Id: &parts[3], Scope: waftypes.ScopeRegional})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.IPSet.Addresses, " "); got != "3.92.113.229/32 3.212.79.116/32" || aws.ToString(set.IPSet.Description) != "atlas-ip-sync webhook receiver" {
		t.Errorf("IP set: %s (%q)", got, aws.ToString(set.IPSet.Description))
	}
	for _, tc := range []struct{ what, doc, sid, want string }{
		{"key policy", aws.ToString(kp.Policy), "AtlasIPAllowList", "3.92.113.229/32 3.212.79.116/32"},
		{"endpoint policy", aws.ToString(ep.VpcEndpoints[0].PolicyDocument), "AtlasNodes", "198.51.100.9/32 198.51.100.10/32"},
		{"role policy", unescape(t, aws.ToString(rp.PolicyDocument)), "AtlasIPAllowList", "3.92.113.229/32 3.212.79.116/32"},
	} {
		c, err := policy.Read([]byte(tc.doc), tc.sid)
		if err != nil || strings.Join(c.Values, " ") != tc.want {
			t.Errorf("%s: %v %v, want %s", tc.what, c.Values, err, tc.want)
		}
	}
}

func unescape(t *testing.T, s string) string {
	t.Helper()
	out, err := url.PathUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
