package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
)

const minimal = `{"targets":[{"name":"k","type":"kms-key-policy","resource":"1234abcd-12ab-34cd-56ef-1234567890ab","sid":"S"}]`

func TestParseJSONDefaults(t *testing.T) {
	for _, doc := range []string{minimal + `}`, minimal + `,"guards":null}`, minimal + `,"guards":{}}`} {
		c, err := config.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if c.Guards.MinAddresses != 1 || c.Guards.MaxRemovePercent != 30 || time.Duration(c.Guards.RemovalGrace) != 24*time.Hour {
			t.Errorf("%s: guards %+v", doc, c.Guards)
		}
		if c.Atlas.Concurrency != 16 || c.Atlas.BaseURL != config.DefaultBaseURL || c.Targets[0].Sources[0].Kind != config.SourceControlPlaneOutbound {
			t.Errorf("%s: defaults %+v %+v", doc, c.Atlas, c.Targets[0])
		}
	}
	c0, _ := config.Parse([]byte(minimal + `}`))
	if time.Duration(c0.Verify.Window) != 2*time.Minute || time.Duration(c0.Verify.Interval) != 10*time.Second {
		t.Errorf("verify defaults %+v", c0.Verify)
	}
	c, err := config.Parse([]byte(minimal + `,"guards":{"maxRemovePercent":50}}`))
	if err != nil || c.Guards.MaxRemovePercent != 50 || c.Guards.MinAddresses != 1 {
		t.Fatalf("one guard set: %+v %v", c, err)
	}
	if c.Guards.WidestPrefix != admission.DefaultWidest {
		t.Fatalf("widestPrefix default %+v", c.Guards.WidestPrefix)
	}
	c, err = config.Parse([]byte(minimal + `,"guards":{"widestPrefix":{"ipv4":32}}}`))
	if err != nil || c.Guards.WidestPrefix != (admission.Widest{IPv4: 32, IPv6: 48}) {
		t.Fatalf("one family set: %+v %v", c.Guards, err)
	}
	if _, err := config.Parse([]byte(minimal[:len(minimal)-2] + `,"static":["10.0.0.0/8","2600::/16"]}]}`)); err != nil {
		t.Fatalf("the widest static CIDRs: %v", err)
	}
}

// sg is a security-group target with the given rule options.
func sg(options string) string {
	return `{"targets":[{"name":"g","type":"security-group","resource":"sg-0123456789abcdef0","sid":"ipsync:","static":["1.1.1.1"],` + options + `}]}`
}

// The three network targets parse, and each carries its options.
func TestNetworkTargetsParse(t *testing.T) {
	doc := `{"targets":[
	  {"name":"atlas-egress","type":"security-group","resource":"sg-0123456789abcdef0","sid":"atlas-ip-sync:","direction":"egress","protocol":"tcp","ports":"27015-27017","sources":["control-plane-outbound"],"maxRules":120},
	  {"name":"atlas-nodes","type":"prefix-list","resource":"pl-0123456789abcdef0","sid":"atlas-ip-sync:","sources":["control-plane-outbound"]},
	  {"name":"webhook-waf","type":"waf-ip-set","resource":"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/atlas-webhook/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111","sid":"atlas-ip-sync","sources":["control-plane-outbound"]}]}`
	c, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if o := c.Targets[0].Options(); o.Direction != "egress" || o.Protocol != "tcp" || o.Ports != "27015-27017" || o.MaxRules != 120 {
		t.Fatalf("options %+v", o)
	}
	out, err := config.Marshal(c)
	if err != nil || !strings.Contains(string(out), `"direction":"egress","protocol":"tcp","ports":"27015-27017","maxRules":120`) {
		t.Fatalf("marshal: %s %v", out, err)
	}
	if again, err := config.Parse(out); err != nil || again.Targets[0].Options() != c.Targets[0].Options() {
		t.Fatalf("round trip: %v", err)
	}
}

func TestParseJSONRefuses(t *testing.T) {
	for _, tt := range []struct{ name, doc, want string }{
		{"empty", "  ", "empty document"},
		{"YAML", "atlas: {}", "want a JSON object"},
		{"unknown key", `{"atlass":{}}`, `unknown key "atlass"`},
		{"unknown nested key", `{"guards":{"minAdresses":2}}`, `unknown key "guards.minAdresses"`},
		{"keys match exactly", `{"Guards":{}}`, `unknown key "Guards"`},
		{"unknown key in a target", `{"targets":[{"sid":"a"},{"sidd":"b"}]}`, `unknown key "targets[1].sidd"`},
		{"duplicate guard", `{"guards":{"maxRemovePercent":30,"maxRemovePercent":100}}`, `guards.maxRemovePercent: key "maxRemovePercent" appears twice`},
		{"duplicate in a list item", `{"targets":[{"sid":"a","sid":"b"}]}`, `targets[0].sid: key "sid" appears twice`},
		{"duplicate target type default", `{"targetDefaults":{"kms-key-policy":{},"kms-key-policy":{}}}`, `targetDefaults.kms-key-policy: key "kms-key-policy" appears twice`},
		{"duplicate top-level", `{"guards":{},"guards":{}}`, `guards: key "guards" appears twice`},
		{"two documents", `{} {}`, "more than one document"},
		{"trailing garbage", `{} x`, "more than one document"},
		{"truncated", `{"guards":{`, "ends early"},
		{"not JSON", `{"guards" 1}`, "not valid JSON"},
		{"string for a number", `{"guards":{"minAddresses":"2"}}`, "guards.minAddresses: want a number, got a JSON string"},
		{"number for a string", minimal + `,"snapshot":{"url":1}}`, "snapshot.url: want a string, got a JSON number"},
		{"object for a list", `{"targets":{}}`, "targets: want a list, got a JSON object"},
		{"list for an object", `{"guards":[]}`, "guards: want an object, got a JSON list"},
		{"fraction for a count", `{"atlas":{"concurrency":1.5}}`, "atlas.concurrency: want a whole number, got 1.5"},
		{"string for a boolean", `{"webhook":{"checkSource":"yes"}}`, "webhook.checkSource: want true or false, got a JSON string"},
		{"number in a list of strings", `{"atlas":{"projects":["5aec7afbf7d068e35a39809b",7]}}`, "atlas.projects[1]: want a string, got a JSON number"},
		{"bad duration", `{"guards":{"removalGrace":"a day"}}`, `"a day" is not a duration`},
		{"duration as a number", `{"guards":{"removalGrace":3600}}`, "want a duration such as 24h"},
		{"bad source", `{"targets":[{"sources":["control-plane"]}]}`, `source "control-plane"`},
		{"source as a number", `{"targets":[{"sources":[1]}]}`, "targets[0].sources[0]: want a source such as control-plane-outbound, got a JSON number"},
		{"bad role ARN", minimal[:len(minimal)-2] + `,"roleArn":"arn:aws:iam::12:role/x"}]}`, `roleArn "arn:aws:iam::12:role/x"`},
		{"role ARN of a user", minimal[:len(minimal)-2] + `,"roleArn":"arn:aws:iam::222222222222:user/x"}]}`, "want arn:aws:iam::account:role/name"},
		{"external id without a role", minimal[:len(minimal)-2] + `,"externalId":"abc"}]}`, "externalId: want"},
		{"access list of a bad project", `{"targets":[{"name":"a","type":"atlas-access-list","resource":"abc","sid":"ipsync","static":["1.1.1.1"]}]}`, "want the Atlas project id"},
		{"Atlas addresses in an access list", `{"targets":[{"name":"a","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"ipsync","sources":["control-plane-outbound"]}]}`, "an access list takes nat-gateways:KEY=VALUE sources"},
		{"NAT addresses in a key policy", minimal[:len(minimal)-2] + `,"sources":["nat-gateways:Name=x"]}]}`, "NAT gateway addresses feed only atlas-access-list targets"},
		{"bad NAT source", `{"targets":[{"name":"a","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"ipsync","sources":["nat-gateways:Name"]}]}`, "want nat-gateways:TAG_KEY=TAG_VALUE"},
		{"two access-list targets on one project", `{"targets":[{"name":"a","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"one","static":["1.1.1.1"]},{"name":"b","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"two","static":["1.1.1.2"]}]}`, `already managed by target "a"`},
		{"verify window too long", `{"verify":{"window":"10m"}}`, "verify.window 10m0s: want 0 to 4m0s"},
		{"verify interval too short", `{"verify":{"interval":"10ms"}}`, "verify.interval 10ms: want at least 1s"},
		{"encryption projects on an endpoint", `{"targets":[{"name":"e","type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d","sid":"S","static":["1.1.1.1"],"encryptionAtRestProjects":["5aec7afbf7d068e35a39809b"]}]}`, "only kms-key-policy, security-group, prefix-list, gcp-access-level, azure-key-vault targets are verified with Atlas's encryption at rest"},
		{"bad encryption project", minimal[:len(minimal)-2] + `,"encryptionAtRestProjects":["x"]}]}`, `encryptionAtRestProjects: "x" is not a project id`},
		{"security group without a direction", sg(`"protocol":"tcp","ports":"27017"`), "direction is required: ingress or egress"},
		{"security group of all traffic with ports", sg(`"direction":"egress","protocol":"all","ports":"1-2"`), "protocol all takes no ports"},
		{"security group tcp without ports", sg(`"direction":"egress","protocol":"tcp"`), "ports are required for tcp"},
		{"security group quota", sg(`"direction":"egress","protocol":"tcp","ports":"1","maxRules":5000`), "maxRules 5000"},
		{"maxRules as text", sg(`"direction":"egress","protocol":"tcp","ports":"1","maxRules":"60"`), "maxRules: want a number"},
		{"security group id", `{"targets":[{"name":"g","type":"security-group","resource":"sg-1","sid":"ipsync:","static":["1.1.1.1"],"direction":"egress","protocol":"all"}]}`, "want a security group id (sg-…)"},
		{"description characters", `{"targets":[{"name":"g","type":"security-group","resource":"sg-0123456789abcdef0","sid":"ipsync<","static":["1.1.1.1"],"direction":"egress","protocol":"all"}]}`, "security group refuses some of its characters"},
		{"rule options on a key policy", minimal[:len(minimal)-2] + `,"direction":"egress"}]}`, "direction, protocol, ports and maxRules belong to security-group targets, not kms-key-policy"},
		{"prefix list id", `{"targets":[{"name":"p","type":"prefix-list","resource":"pl-x","sid":"ipsync:","static":["1.1.1.1"]}]}`, "want a prefix list id (pl-…)"},
		{"IP set ARN", `{"targets":[{"name":"w","type":"waf-ip-set","resource":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/a/1","sid":"ipsync","static":["1.1.1.1"]}]}`, "want an IP set ARN"},
		{"access level without credentials", `{"targets":[{"name":"g","type":"gcp-access-level","resource":"accessPolicies/1/accessLevels/a","sid":"x","static":["1.1.1.1"]}]}`, "needs gcp.credentials.secretId"},
		{"access level through an AWS role", `{"gcp":{"credentials":{"secretId":"gcp/sa"}},"targets":[{"name":"g","type":"gcp-access-level","resource":"accessPolicies/1/accessLevels/a","sid":"x","static":["1.1.1.1"],"roleArn":"arn:aws:iam::222222222222:role/x"}]}`, "is not in AWS"},
		{"vault without azure", `{"targets":[{"name":"v","type":"azure-key-vault","resource":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1","sid":"x","static":["1.1.1.1"]}]}`, "azure.tenantId \"\": want the Entra directory (tenant) ID"},
		{"azure both ways", `{"azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"11111111-1111-1111-1111-111111111111","credentials":{"secretId":"az/sp"},"federation":{}}}`, "not both"},
		{"azure neither way", `{"azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"11111111-1111-1111-1111-111111111111"}}`, "give credentials.secretId"},
		{"azure authority in clear", `{"azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"11111111-1111-1111-1111-111111111111","federation":{},"authorityURL":"http://login.example.com"}}`, "azure.authorityURL"},
		{"vault through an AWS role", `{"azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"11111111-1111-1111-1111-111111111111","federation":{}},"targets":[{"name":"v","type":"azure-key-vault","resource":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1","sid":"x","static":["1.1.1.1"],"roleArn":"arn:aws:iam::222222222222:role/x"}]}`, "is not in AWS"},
		{"vault sid with a slash", `{"azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"11111111-1111-1111-1111-111111111111","federation":{}},"targets":[{"name":"v","type":"azure-key-vault","resource":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1","sid":"a/b","static":["1.1.1.1"]}]}`, "sid"},
		{"GCP endpoint in clear", `{"gcp":{"credentials":{"secretId":"gcp/sa"},"endpoint":"http://acm.example.com"}}`, "gcp.endpoint"},
		{"access level resource", `{"gcp":{"credentials":{"secretId":"gcp/sa"}},"targets":[{"name":"g","type":"gcp-access-level","resource":"accessPolicies/1/accessLevels/a-b","sid":"x","static":["1.1.1.1"]}]}`, "want accessPolicies/POLICY_NUMBER/accessLevels/LEVEL_NAME"},
		{"static allow-all", minimal[:len(minimal)-2] + `,"static":["52.1.2.3","0.0.0.0/0"]}]}`, `targets[0].static[1] (target "k"): 0.0.0.0/0 allows every address`},
		{"static IPv6 allow-all", minimal[:len(minimal)-2] + `,"static":["::/0"]}]}`, `targets[0].static[0] (target "k"): ::/0 allows every address`},
		{"static broader than /8", minimal[:len(minimal)-2] + `,"static":["52.0.0.0/7"]}]}`, `targets[0].static[0] (target "k"): 52.0.0.0/7 is broader than /8 (IPv4) or /16 (IPv6)`},
		{"static broader than /16", minimal[:len(minimal)-2] + `,"static":["2600::/15"]}]}`, `targets[0].static[0] (target "k"): 2600::/15 is broader than`},
		{"static that does not parse", minimal[:len(minimal)-2] + `,"static":["1.2.3"]}]}`, `targets[0].static[0] (target "k"): "1.2.3" is not an IP address or CIDR`},
		{"access list open to all", `{"targets":[{"name":"a","type":"atlas-access-list","resource":"5aec7afbf7d068e35a39809b","sid":"ipsync","static":["0.0.0.0/0"]}]}`, `targets[0].static[0] (target "a"): 0.0.0.0/0 allows every address`},
		{"widest IPv4 prefix out of range", `{"guards":{"widestPrefix":{"ipv4":4}}}`, "guards.widestPrefix.ipv4 4: want 8 to 32"},
		{"widest IPv6 prefix out of range", `{"guards":{"widestPrefix":{"ipv6":130}}}`, "guards.widestPrefix.ipv6 130: want 16 to 128"},
		{"widest prefix unknown key", `{"guards":{"widestPrefix":{"v4":24}}}`, `unknown key "guards.widestPrefix.v4"`},
		{"two targets on one IP set", `{"targets":[{"name":"a","type":"waf-ip-set","resource":"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/a/1","sid":"x","static":["1.1.1.1"]},{"name":"b","type":"waf-ip-set","resource":"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/a/1","sid":"y","static":["1.1.1.2"]}]}`, `already managed by target "a"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSourcesAndDurationsRoundTrip(t *testing.T) {
	c, err := config.Parse([]byte(`{"atlas":{"projects":["5aec7afbf7d068e35a39809b"]},"guards":{"removalGrace":"90m"},
	  "targets":[{"name":"e","type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d4e5f67890","sid":"S","sources":["nodes-outbound","control-plane-outbound:aws/us-east-1"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := config.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := config.Parse(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got, want := string(mustMarshal(t, again)), string(b); got != want {
		t.Fatalf("round trip changed the config:\n%s\n%s", got, want)
	}
	if !strings.Contains(string(b), `"removalGrace":"1h30m0s"`) || !strings.Contains(string(b), `"control-plane-outbound:aws/us-east-1"`) {
		t.Fatalf("written as %s", b)
	}
}

func mustMarshal(t *testing.T, c *config.Config) []byte {
	t.Helper()
	b, err := config.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal + `}`))
	f.Add([]byte(`{"guards":{"maxRemovePercent":30,"maxRemovePercent":100}}`))
	f.Add([]byte(`{"targets":[{"name":"e","type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d","sid":"S","static":["1.1.1.1"]}]}`))
	f.Add([]byte(sg(`"direction":"egress","protocol":"tcp","ports":"27015-27017","maxRules":60`)))
	f.Add([]byte(`{"targetDefaults":{"security-group":{"direction":"ingress","protocol":"all"}},"targets":[{"type":"security-group","resource":"sg-0123abcd","sid":"x","static":["::/0"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Parse(b)
		if err != nil {
			return
		}
		if c.Guards.MinAddresses < 1 || c.Guards.MaxRemovePercent <= 0 || c.Atlas.BaseURL == "" || c.Snapshot.URL == "" {
			t.Fatalf("accepted an unsafe config: %+v", c)
		}
		for _, tg := range c.Targets {
			if tg.Sid == "" || (len(tg.Sources) == 0 && len(tg.Static) == 0) {
				t.Fatalf("accepted a target with nothing to own: %+v", tg)
			}
		}
		// What is accepted, written out, reads back the same.
		out, err := config.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := config.Parse(out)
		if err != nil {
			t.Fatalf("written config does not parse: %v\n%s", err, out)
		}
		if back, _ := config.Marshal(again); string(back) != string(out) {
			t.Fatalf("round trip changed it:\n%s\n%s", out, back)
		}
	})
}

func TestEncryptionProjectsFromTargetDefaults(t *testing.T) {
	c, err := config.Parse([]byte(`{"targetDefaults":{"kms-key-policy":{"sid":"S","encryptionAtRestProjects":["5aec7afbf7d068e35a39809b"]}},
	  "targets":[{"type":"kms-key-policy","resource":"1234abcd-12ab-34cd-56ef-1234567890ab"},
	             {"type":"kms-key-policy","resource":"2234abcd-12ab-34cd-56ef-1234567890ab","encryptionAtRestProjects":["6aec7afbf7d068e35a39809c"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Targets[0].EncryptionAtRestProjects; len(got) != 1 || got[0] != "5aec7afbf7d068e35a39809b" {
		t.Errorf("inherited %v", got)
	}
	if got := c.Targets[1].EncryptionAtRestProjects; len(got) != 1 || got[0] != "6aec7afbf7d068e35a39809c" {
		t.Errorf("own projects replaced: %v", got)
	}
	_, err = config.Parse([]byte(`{"targetDefaults":{"vpc-endpoint-policy":{"sid":"S","sources":["nodes"],"encryptionAtRestProjects":["5aec7afbf7d068e35a39809b"]}},
	  "atlas":{"projects":["5aec7afbf7d068e35a39809b"]},"targets":[{"type":"vpc-endpoint-policy","resource":"vpce-0a1b2c3d"}]}`))
	if err == nil || !strings.Contains(err.Error(), "only kms-key-policy, security-group, prefix-list, gcp-access-level, azure-key-vault targets") {
		t.Fatalf("endpoint defaults with projects: %v", err)
	}
}

func TestRoleARN(t *testing.T) {
	c, err := config.Parse([]byte(minimal[:len(minimal)-2] + `,"roleArn":"arn:aws:iam::222222222222:role/ops/atlas-ip-sync","externalId":"ipsync-ext"}]}`))
	if err != nil || c.Targets[0].RoleArn != "arn:aws:iam::222222222222:role/ops/atlas-ip-sync" || c.Targets[0].ExternalID != "ipsync-ext" {
		t.Fatalf("%+v %v", c, err)
	}
}
