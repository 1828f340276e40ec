package archtest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/azurekeyvault"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/gcpaccesslevel"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/securitygroup"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
)

func loadTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// get walks mapping keys.
func get(n *yaml.Node, path ...string) *yaml.Node {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func functions(root *yaml.Node) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	res := get(root, "Resources")
	for i := 0; i+1 < len(res.Content); i += 2 {
		if get(res.Content[i+1], "Type").Value == "AWS::Serverless::Function" {
			out[res.Content[i].Value] = res.Content[i+1]
		}
	}
	return out
}

func TestTemplateFunctions(t *testing.T) {
	root := loadTemplate(t)
	g := get(root, "Globals", "Function")
	if get(g, "Runtime").Value != "provided.al2023" || get(g, "Handler").Value != "bootstrap" || get(g, "Architectures").Content[0].Value != "arm64" {
		t.Fatal("Globals must set provided.al2023, arm64, handler bootstrap")
	}
	fns := functions(root)
	want := map[string]string{"ReconcileFunction": "functions/reconcile", "WebhookFunction": "functions/webhook"}
	if len(fns) != len(want) {
		t.Fatalf("functions %v", fns)
	}
	makefile, _ := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	for name, dir := range want {
		f := fns[name]
		if f == nil {
			t.Fatalf("no %s", name)
		}
		for _, k := range []string{"Runtime", "Handler", "Architectures"} {
			if get(f, "Properties", k) != nil {
				t.Errorf("%s overrides %s from Globals", name, k)
			}
		}
		if get(f, "Metadata", "BuildMethod").Value != "makefile" {
			t.Errorf("%s: BuildMethod must be makefile", name)
		}
		if !strings.Contains(string(makefile), "build-"+name+":") || !strings.Contains(string(makefile), "./"+dir) {
			t.Errorf("Makefile has no build-%s target building ./%s", name, dir)
		}
		if get(f, "Properties", "ReservedConcurrentExecutions") == nil {
			t.Errorf("%s has no reserved concurrency", name)
		}
	}
	if get(fns["ReconcileFunction"], "Properties", "ReservedConcurrentExecutions").Value != "1" {
		t.Error("the reconcile function must run one at a time")
	}
	if get(fns["WebhookFunction"], "Properties", "FunctionUrlConfig", "AuthType").Value != "NONE" {
		t.Error("the webhook's function URL must use AuthType NONE (the signature authenticates)")
	}
}

var writeAction = regexp.MustCompile(`^(kms:Put|ec2:Modify|ec2:Authorize|ec2:Revoke|iam:Put|s3:Put|s3:Delete|sns:Publish|sqs:SendMessage|sqs:DeleteMessage|sqs:ChangeMessageVisibility|secretsmanager:Put|wafv2:Update)`)

// anyResource are the reads that support no resource-level permissions
// (the Service Authorization Reference lists no resource type for them):
// the only actions that may be allowed on "*".
var anyResource = map[string]bool{
	"ec2:DescribeVpcEndpoints": true, "ec2:DescribeNatGateways": true, "ec2:DescribeSecurityGroupRules": true,
	"ec2:DescribeSecurityGroups": true, "ec2:DescribeManagedPrefixLists": true,
	// The caller's own identity as a JWT (Azure federation): no resource to name.
	"sts:GetWebIdentityToken": true,
}

// scoped reports whether a Resource value names parameters or stack
// resources only (a !Ref, !GetAtt, or !Sub/!Split/!Join built from them).
func scoped(n *yaml.Node) bool {
	switch {
	case n.Tag == "!Ref" || n.Tag == "!GetAtt":
		return n.Value != "" && !strings.HasPrefix(n.Value, "AWS::")
	case n.Tag == "!Sub":
		return strings.Contains(n.Value, "${") && !strings.Contains(n.Value, "*\"") && !strings.HasSuffix(n.Value, ":*")
	case n.Tag == "!Split" || n.Tag == "!Join":
		refs := false
		var walk func(*yaml.Node)
		walk = func(m *yaml.Node) {
			if m.Tag == "!Ref" {
				refs = true
			}
			for _, c := range m.Content {
				walk(c)
			}
		}
		walk(n)
		return refs
	case n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if !scoped(c) {
				return false
			}
		}
		return len(n.Content) > 0
	}
	return false
}

func TestWriteActionsAreScoped(t *testing.T) {
	root := loadTemplate(t)
	checked := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode && get(n, "Effect") != nil && get(n, "Action") != nil && get(n, "Resource") != nil && get(n, "Effect").Value == "Allow" {
			actions := []string{get(n, "Action").Value}
			if a := get(n, "Action"); a.Kind == yaml.SequenceNode {
				actions = nil
				for _, c := range a.Content {
					actions = append(actions, c.Value)
				}
			}
			res := get(n, "Resource")
			for _, a := range actions {
				// Only reads that support no resource-level permissions may be "*".
				if res.Value == "*" && !anyResource[a] {
					t.Errorf("%s is allowed on every resource", a)
				}
				if writeAction.MatchString(a) {
					checked++
					if !scoped(res) {
						t.Errorf("write action %s is not scoped to a parameter or a resource of the stack (line %d)", a, res.Line)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(get(root, "Resources"))
	if checked < 6 {
		t.Fatalf("only %d write actions found: the walk is broken", checked)
	}
}

// eval computes the intrinsic functions the template uses for IPSYNC_CONFIG,
// with sample parameter values, so the test can parse the result.
func eval(t *testing.T, n *yaml.Node, params map[string][]string, conds map[string]bool) []string {
	t.Helper()
	one := func(v string) []string { return []string{v} }
	switch n.Tag {
	case "!Ref":
		if v, ok := params[n.Value]; ok {
			return v
		}
		t.Fatalf("no sample value for %s", n.Value)
	case "!Join":
		return one(strings.Join(eval(t, n.Content[1], params, conds), n.Content[0].Value))
	case "!If":
		if conds[n.Content[0].Value] {
			return eval(t, n.Content[1], params, conds)
		}
		return eval(t, n.Content[2], params, conds)
	}
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, eval(t, c, params, conds)...)
		}
		return out
	}
	return one(n.Value)
}

func renderConfig(t *testing.T, params map[string][]string, conds map[string]bool) string {
	root := loadTemplate(t)
	sub := get(root, "Globals", "Function", "Environment", "Variables", "IPSYNC_CONFIG")
	if sub == nil || sub.Tag != "!Sub" {
		t.Fatal("IPSYNC_CONFIG is not a !Sub")
	}
	text := sub.Content[0].Value
	vars := sub.Content[1]
	for i := 0; i+1 < len(vars.Content); i += 2 {
		text = strings.ReplaceAll(text, "${"+vars.Content[i].Value+"}", eval(t, vars.Content[i+1], params, conds)[0])
	}
	for k, v := range params {
		text = strings.ReplaceAll(text, "${"+k+"}", strings.Join(v, ","))
	}
	if strings.Contains(text, "${") {
		t.Fatalf("unsubstituted variable in %s", text)
	}
	return text
}

// Each new kind's write actions are granted only on the template's
// parameters, and only when the parameter lists a resource.
func TestNetworkTargetsAreGrantedTheirActions(t *testing.T) {
	root := loadTemplate(t)
	want := map[string]string{ // action → the condition of the statement granting it
		"ec2:AuthorizeSecurityGroupEgress": "HasSecurityGroups", "ec2:AuthorizeSecurityGroupIngress": "HasSecurityGroups",
		"ec2:RevokeSecurityGroupEgress": "HasSecurityGroups", "ec2:RevokeSecurityGroupIngress": "HasSecurityGroups",
		"ec2:DescribeSecurityGroupRules": "HasSecurityGroups", "ec2:DescribeSecurityGroups": "HasSecurityGroups",
		"ec2:DescribeManagedPrefixLists": "HasPrefixLists", "ec2:GetManagedPrefixListEntries": "HasPrefixLists", "ec2:ModifyManagedPrefixList": "HasPrefixLists",
		"wafv2:GetIPSet": "HasWafIpSets", "wafv2:UpdateIPSet": "HasWafIpSets",
	}
	policies := get(root, "Resources", "ReconcileFunction", "Properties", "Policies")
	found := map[string]string{}
	for _, p := range policies.Content {
		if p.Tag != "!If" {
			continue
		}
		cond := p.Content[0].Value
		for _, st := range get(p.Content[1], "Statement").Content {
			a := get(st, "Action")
			actions := []*yaml.Node{a}
			if a.Kind == yaml.SequenceNode {
				actions = a.Content
			}
			for _, x := range actions {
				found[x.Value] = cond
				if res := get(st, "Resource"); res.Value != "*" && !strings.Contains(fmt.Sprint(nodeText(res)), map[string]string{"HasSecurityGroups": "SecurityGroupIds", "HasPrefixLists": "PrefixListIds", "HasWafIpSets": "WafIpSetArns"}[cond]) && want[x.Value] != "" {
					t.Errorf("%s is granted on %v, not on the parameter's resources", x.Value, nodeText(res))
				}
			}
		}
	}
	for a, cond := range want {
		if found[a] != cond {
			t.Errorf("%s: granted under %q, want under %q", a, found[a], cond)
		}
	}
}

// nodeText is every scalar under n, for a message or a search.
func nodeText(n *yaml.Node) []string {
	out := []string{n.Value}
	for _, c := range n.Content {
		out = append(out, nodeText(c)...)
	}
	return out
}

func TestTemplateConfigParses(t *testing.T) {
	params := map[string][]string{
		"AtlasBaseUrl": {"https://cloud.mongodb.com"}, "AtlasSecretArn": {"arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/atlas-AbCdEf"},
		"AtlasProjectIds": {"5aec7afbf7d068e35a39809b", "6aec7afbf7d068e35a39809c"},
		"SnapshotBucket":  {"stack-snapshotbucket-1x2y3z"}, "AlertTopic": {"arn:aws:sns:us-east-1:111122223333:stack-AlertTopic-ABC"},
		"TriggerQueue":     {"https://sqs.us-east-1.amazonaws.com/111122223333/stack-TriggerQueue-ABC.fifo"},
		"WebhookSecretArn": {"arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/webhook-AbCdEf"}, "WebhookCheckSource": {"false"},
		"KeyStatementSid": {"KeySid"}, "EndpointStatementSid": {"EndpointSid"}, "AtlasRolePolicyStatementSid": {"RoleSid"}, "AccessListCommentPrefix": {"ipsync:"},
		"KeySources": {`"control-plane-outbound"`}, "EndpointSources": {`"nodes"`},
		"KeyArns":                    {"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:111122223333:key/2234abcd-12ab-34cd-56ef-1234567890ab"},
		"EndpointIds":                {"vpce-0a1b2c3d4e5f67890", "vpce-1a1b2c3d4e5f67890"},
		"EncryptionAtRestProjectIds": {"5aec7afbf7d068e35a39809b"}, "VerifyWindow": {"90s"},
		"TargetRoleArn": {"arn:aws:iam::222222222222:role/atlas-ip-sync"}, "TargetExternalId": {"ext-1"},
		"AtlasRoleName": {"atlas-kms-access"}, "AtlasRolePolicyName": {"atlas-ip-allowlist"}, "AtlasRolePolicySources": {`"control-plane-outbound"`},
		"AccessListProjectIds": {"5aec7afbf7d068e35a39809b", "6aec7afbf7d068e35a39809c"}, "NatGatewayTag": {"Name=prod-egress"},
		"SecurityGroupIds": {"sg-0123456789abcdef0"}, "SecurityGroupDirection": {"egress"}, "SecurityGroupProtocol": {"tcp"}, "SecurityGroupPorts": {"27015-27017"},
		"SecurityGroupMaxRules": {"120"}, "SecurityGroupSources": {`"nodes-inbound"`}, "SecurityGroupRulePrefix": {"atlas-ip-sync:"},
		"PrefixListIds": {"pl-0123456789abcdef0", "pl-1123456789abcdef0"}, "PrefixListSources": {`"nodes-inbound"`}, "PrefixListEntryPrefix": {"atlas-ip-sync:"},
		"WafIpSetArns":    {"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/atlas-webhook/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"},
		"WafIpSetSources": {`"control-plane-outbound"`}, "WafIpSetDescriptionPrefix": {"atlas-ip-sync"},
		"GcpAccessLevels":         {"accessPolicies/123456789/accessLevels/atlas_ip_sync"},
		"GcpCredentialsSecretArn": {"arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/gcp-AbCdEf"},
		"GcpAccessLevelSources":   {`"control-plane-outbound","nodes-outbound"`}, "GcpAccessLevelDescriptionPrefix": {"atlas-ip-sync"},
		"AzureKeyVaults": {"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/atlas-kv"},
		"AzureTenantId":  {"00000000-0000-0000-0000-0000000000aa"}, "AzureClientId": {"11111111-1111-1111-1111-1111111111bb"},
		"AzureClientSecretArn": {"arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/azure-AbCdEf"},
		"AzureKeyVaultSources": {`"control-plane-outbound","nodes-outbound"`}, "AzureTagSuffix": {"atlas-ip-sync"},
	}
	for _, withEndpoints := range []bool{true, false} {
		text := renderConfig(t, params, map[string]bool{"HasEndpoints": withEndpoints, "VerifiesEncryption": withEndpoints, "AssumesRole": withEndpoints, "HasExternalId": withEndpoints,
			"HasRolePolicy": withEndpoints, "HasAccessLists": withEndpoints, "HasSecurityGroups": withEndpoints, "HasPrefixLists": withEndpoints, "HasWafIpSets": withEndpoints, "HasGcpLevels": withEndpoints,
			"HasAzureVaults": withEndpoints, "AzureUsesSecret": withEndpoints, "AzureFederates": false})
		c, err := config.Parse([]byte(text))
		if err != nil {
			t.Fatalf("the template's IPSYNC_CONFIG does not parse: %v\n%s", err, text)
		}
		wantTargets := 2
		if withEndpoints {
			wantTargets = 2 + 2 + 1 + 2 + 1 + 2 + 1 + 1 + 1 // keys, endpoints, the role policy, access lists, a group, lists, an IP set, an access level, a vault
		}
		types := map[config.TargetType]int{}
		for _, tg := range c.Targets {
			types[tg.Type]++
		}
		if withEndpoints && (types[iamrolepolicy.Type] != 1 || types[atlasaccesslist.Type] != 2 || c.Targets[4].Resource != "atlas-kms-access/atlas-ip-allowlist") {
			t.Fatalf("targets by type %v; %+v", types, c.Targets)
		}
		if len(c.Targets) != wantTargets || len(c.Atlas.Projects) != 2 || c.Webhook.SecretID == "" || c.Trigger.QueueURL == "" || c.Notify.TopicArn == "" {
			t.Fatalf("config %+v", c)
		}
		// Each target type has its own Sid parameter.
		sids := map[config.TargetType]string{kmspolicy.Type: "KeySid", vpcepolicy.Type: "EndpointSid", iamrolepolicy.Type: "RoleSid", atlasaccesslist.Type: "ipsync:",
			securitygroup.Type: "atlas-ip-sync:", prefixlist.Type: "atlas-ip-sync:", wafipset.Type: "atlas-ip-sync", gcpaccesslevel.Type: "atlas-ip-sync", azurekeyvault.Type: "atlas-ip-sync"}
		for _, tg := range c.Targets {
			if tg.Sid != sids[tg.Type] || len(tg.Sources) == 0 {
				t.Fatalf("target %+v did not inherit its type's defaults (sid %q)", tg, sids[tg.Type])
			}
			verifies := withEndpoints && tg.Type == kmspolicy.Type
			if verifies != (len(tg.EncryptionAtRestProjects) == 1) {
				t.Fatalf("target %+v: encryption-at-rest projects, want them: %v", tg, verifies)
			}
			// Access lists are Atlas's: never through the AWS role.
			wantRole := withEndpoints && tg.Type != atlasaccesslist.Type && tg.Type != gcpaccesslevel.Type && tg.Type != azurekeyvault.Type
			if wantRole != (tg.RoleArn == "arn:aws:iam::222222222222:role/atlas-ip-sync" && tg.ExternalID == "ext-1") {
				t.Fatalf("target %+v: role, want one: %v", tg, wantRole)
			}
			if tg.Type == atlasaccesslist.Type && tg.Sources[0].String() != "nat-gateways:Name=prod-egress" {
				t.Fatalf("access list %+v: sources", tg)
			}
			if o := tg.Options(); (tg.Type == securitygroup.Type) != (o == target.Options{Direction: "egress", Protocol: "tcp", Ports: "27015-27017", MaxRules: 120}) {
				t.Fatalf("target %+v: rule options %+v", tg, o)
			}
		}
		if withEndpoints && (c.Azure.TenantID != "00000000-0000-0000-0000-0000000000aa" || c.Azure.Credentials.SecretID == "" || c.Azure.Federation != nil) {
			t.Fatalf("azure %+v", c.Azure)
		}
		if time.Duration(c.Verify.Window) != 90*time.Second {
			t.Fatalf("verify window %v", c.Verify.Window)
		}
	}
}

// lambdaSets are the variables Lambda itself sets in every function
// (its reserved runtime variables), and optional ones a person sets only
// to point the functions at a local stack.
var lambdaSets = []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"}

// TestEnvironmentTheCodeReads: every variable the functions read is set,
// by the template or by Lambda.
func TestEnvironmentTheCodeReads(t *testing.T) {
	read := regexp.MustCompile(`[gG]etenv\("([A-Z_]+)"\)`)
	var names []string
	for _, dir := range []string{"../../functions/reconcile", "../../functions/webhook", "../lambdafn", "../reconcilefn"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, _ := os.ReadFile(f)
			for _, m := range read.FindAllStringSubmatch(string(b), -1) {
				names = append(names, m[1])
			}
		}
	}
	if !slices.Contains(names, "IPSYNC_CONFIG") {
		t.Fatalf("found %v: the scan is broken", names)
	}
	vars := get(loadTemplate(t), "Globals", "Function", "Environment", "Variables")
	for _, n := range names {
		if get(vars, n) == nil && !slices.Contains(lambdaSets, n) {
			t.Errorf("the code reads %s but the template does not set it", n)
		}
	}
}

// A secret ARN without the 6 characters Secrets Manager appends matches no
// secret when an IAM statement names it: the parameters must refuse it.
func TestSecretParametersWantTheFullARN(t *testing.T) {
	params := get(loadTemplate(t), "Parameters")
	for _, name := range []string{"AtlasSecretArn", "WebhookSecretArn"} {
		p := get(params, name)
		re, err := regexp.Compile(get(p, "AllowedPattern").Value)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for arn, want := range map[string]bool{
			"arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/atlas-AbCdEf":     true,
			"arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:a-b-c-123456": true,
			"arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/atlas":            false,
			"arn:aws:secretsmanager:us-east-1:111122223333:secret:atlas":                   false,
		} {
			if re.MatchString(arn) != want {
				t.Errorf("%s: %s accepted=%v, want %v", name, arn, !want, want)
			}
		}
	}
}

// Both functions read the snapshot; without s3:ListBucket on the bucket S3
// answers a missing snapshot with 403 and the first run can never start.
func TestSnapshotReadersMayListTheBucket(t *testing.T) {
	for name, fn := range functions(loadTemplate(t)) {
		found := false
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode && get(n, "Action") != nil && get(n, "Action").Value == "s3:ListBucket" {
				res := get(n, "Resource")
				found = res.Tag == "!GetAtt" && res.Value == "SnapshotBucket.Arn"
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(get(fn, "Properties", "Policies"))
		if !found {
			t.Errorf("%s may not s3:ListBucket on SnapshotBucket.Arn", name)
		}
	}
}
