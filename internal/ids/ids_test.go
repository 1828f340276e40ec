package ids

import (
	"regexp"
	"testing"

	"pgregory.net/rapid"
)

// The regexps the matchers replaced: the oracle they must agree with.
var oracles = []struct {
	name string
	re   *regexp.Regexp
	fn   func(string) bool
}{
	{"project id", regexp.MustCompile(`^[0-9a-f]{24}$`), ProjectID},
	{"target name", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`), TargetName},
	{"kms key arn", regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`), KMSKeyARN},
	{"kms key id", regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`), KMSKeyID},
	{"vpce id", regexp.MustCompile(`^vpce-[0-9a-f]{8,17}$`), VPCEndpointID},
	{"security group id", regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`), SecurityGroupID},
	{"prefix list id", regexp.MustCompile(`^pl-([0-9a-f]{8}|[0-9a-f]{17})$`), PrefixListID},
	{"waf ip set arn", regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:wafv2:[a-z0-9-]+:\d{12}:(regional|global)/ipset/[A-Za-z0-9_-]{1,128}/[A-Za-z0-9-]{1,36}$`), func(s string) bool { _, ok := WAFIPSetARN(s); return ok }},
	{"sns topic arn", regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$`), SNSTopicARN},
	{"secret ref", regexp.MustCompile(`^(arn:aws(-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]+$`), SecretRef},
}

func TestMatchersAgreeWithRegexps(t *testing.T) {
	cases := []string{
		"", "5aec7afbf7d068e35a39809b", "5aec7afbf7d068e35a39809B", "5aec7afbf7d068e35a39809",
		"k", "key-1.a_b", "-k", ".k", "k/1",
		"1234abcd-12ab-34cd-56ef-1234567890ab", "1234abcd-12ab-34cd-56ef-1234567890a", "1234abcd-12ab-34cd-56ef-1234567890ab-",
		"mrk-1234abcd12ab34cd56ef1234567890ab", "mrk-1234abcd12ab34cd56ef1234567890a",
		"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
		"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws-iso:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws:kms:us-east-1:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws:kms::111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws:kms:us-east-1:111122223333:alias/x",
		"vpce-0123abcd", "vpce-0123abc", "vpce-0123456789abcdef0", "vpce-0123456789abcdef01", "vpce-0123ABCD",
		"arn:aws:sns:us-east-1:111122223333:alerts", "arn:aws:sns:us-east-1:111122223333:alerts.fifo",
		"arn:aws:sns:us-east-1:111122223333:.fifo", "arn:aws:sns:us-east-1:111122223333:a:b", "arn:aws:sns:us-east-1:111122223333:",
		"ipsync/atlas", "ipsync:atlas", "arn:aws:secretsmanager:us-east-1:111122223333:secret:ipsync/atlas-AbCdEf",
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:", "arn:aws:secretsmanager:us-east-1:111122223333:secret:a:b",
		"arn:aws:secretsmanager:us-east-1:111122223333:other:x", "arn", "arn:x",
		"sg-0123abcd", "sg-0123456789abcdef0", "sg-0123456789abcdef", "pl-0123abcd", "pl-0123456789abcdef0", "pl-0123ABCD",
		"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/atlas-webhook/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
		"arn:aws:wafv2:us-east-1:111122223333:global/ipset/a/1", "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/a/1",
		"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/a", "arn:aws:wafv2:us-east-1:111122223333:regional/ipset/a/1/2",
	}
	for _, o := range oracles {
		for _, s := range cases {
			if got, want := o.fn(s), o.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the regexp says %v", o.name, s, got, want)
			}
		}
	}
}

// Strings the regexp matches, and the same strings with one byte changed,
// inserted or deleted, so both answers occur often.
func TestMatchersAgreeWithRegexpsProperty(t *testing.T) {
	for _, o := range oracles {
		t.Run(o.name, func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				s := rapid.StringMatching(o.re.String()).Draw(t, "match")
				if !o.fn(s) {
					t.Fatalf("%s(%q) = false, the regexp matches it", o.name, s)
				}
				i := rapid.IntRange(0, len(s)).Draw(t, "at")
				c := rapid.SampledFrom([]byte("aZ09:/-._@ \x00")).Draw(t, "byte")
				switch rapid.IntRange(0, 2).Draw(t, "edit") {
				case 0:
					s = s[:i] + string(c) + s[i:]
				case 1:
					if i < len(s) {
						s = s[:i] + s[i+1:]
					}
				case 2:
					if i < len(s) {
						s = s[:i] + string(c) + s[i+1:]
					}
				}
				if got, want := o.fn(s), o.re.MatchString(s); got != want {
					t.Fatalf("%s(%q) = %v, the regexp says %v", o.name, s, got, want)
				}
			})
		})
	}
}

func TestIsRoleARN(t *testing.T) {
	for s, want := range map[string]bool{
		"arn:aws:iam::222222222222:role/atlas-ip-sync":            true,
		"arn:aws-us-gov:iam::222222222222:role/ops/atlas-ip-sync": true,
		"arn:aws:iam:us-east-1:222222222222:role/x":               false, // IAM has no region
		"arn:aws-iso:iam::222222222222:role/x":                    false,
		"arn:aws:iam::22222222222:role/x":                         false,
		"arn:aws:iam::222222222222:role/":                         false,
		"arn:aws:iam::222222222222:user/x":                        false,
		"arn:aws:sts::222222222222:role/x":                        false,
		"arn:aws:iam::222222222222:role/a b":                      false,
	} {
		if got := RoleARN(s); got != want {
			t.Errorf("RoleARN(%q) = %v, want %v", s, got, want)
		}
	}
}
