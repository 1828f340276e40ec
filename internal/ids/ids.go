// Package ids matches resource ids and ARNs: the config's and every kind's.
package ids

import "strings"

// Matchers for resource ids and ARNs. They are plain functions, not
// regexps: RE2 compiles counted repetitions ({24}, {8,17}) by unrolling
// them when the package initialises, a cost paid on every Lambda cold start
// (measured with GODEBUG=inittrace=1; BENCHMARKS.md). ids_test.go checks each
// against the regexp it replaces.

func LowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allBytes(s string, ok func(c byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ProjectID: 24 lowercase hex digits.
func ProjectID(s string) bool { return LowerHex(s, 24) }

// TargetName: a letter or digit, then letters, digits, '.', '_' or '-'.
func TargetName(s string) bool {
	return s != "" && isAlnum(s[0]) && allBytes(s, func(c byte) bool { return isAlnum(c) || c == '.' || c == '_' || c == '-' })
}

// KMSKeyID: a key id (UUID) or a multi-Region key id (mrk-…).
func KMSKeyID(s string) bool {
	if rest, ok := strings.CutPrefix(s, "mrk-"); ok {
		return LowerHex(rest, 32)
	}
	p := strings.Split(s, "-")
	return len(p) == 5 && LowerHex(p[0], 8) && LowerHex(p[1], 4) && LowerHex(p[2], 4) && LowerHex(p[3], 4) && LowerHex(p[4], 12)
}

// VPCEndpointID: vpce- and 8 to 17 hex digits.
func VPCEndpointID(s string) bool {
	rest, ok := strings.CutPrefix(s, "vpce-")
	return ok && len(rest) >= 8 && len(rest) <= 17 && LowerHex(rest, len(rest))
}

// splitARN splits arn:partition:service:region:account:resource and checks
// the parts every ARN here shares: a known partition, the service, a
// 12-digit account. The region is returned for the caller to judge.
func splitARN(s, service string) (region, resource string, ok bool) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != service {
		return "", "", false
	}
	switch p[1] {
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return "", "", false
	}
	account := len(p[4]) == 12 && allBytes(p[4], func(c byte) bool { return c >= '0' && c <= '9' })
	return p[3], p[5], account
}

// arn is splitARN for a regional service: the region must be given.
func arn(s, service string) (resource string, ok bool) {
	region, resource, ok := splitARN(s, service)
	return resource, ok && region != "" && allBytes(region, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' })
}

func KMSKeyARN(s string) bool {
	r, ok := arn(s, "kms")
	id, isKey := strings.CutPrefix(r, "key/")
	return ok && isKey && KMSKeyID(id)
}

func SNSTopicARN(s string) bool {
	r, ok := arn(s, "sns")
	name := strings.TrimSuffix(r, ".fifo")
	return ok && name != "" && allBytes(name, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' })
}

// SecretRef: a Secrets Manager secret name, or its ARN.
func SecretRef(s string) bool {
	name := s
	if strings.HasPrefix(s, "arn:") {
		r, ok := arn(s, "secretsmanager")
		n, isSecret := strings.CutPrefix(r, "secret:")
		if !ok || !isSecret {
			return false
		}
		name = n
	}
	return name != "" && allBytes(name, func(c byte) bool { return isAlnum(c) || strings.IndexByte("/_+=.@-", c) >= 0 })
}

// RoleARN: arn:partition:iam::account:role/path/name (IAM is global: no
// region).
func RoleARN(s string) bool {
	region, resource, ok := splitARN(s, "iam")
	name, isRole := strings.CutPrefix(resource, "role/")
	return ok && region == "" && isRole && name != "" && len(s) <= 2048 && allBytes(name, func(c byte) bool { return isAlnum(c) || strings.IndexByte("/+=,.@_-", c) >= 0 })
}

// ExternalID: what STS accepts as an external id.
func ExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && allBytes(s, func(c byte) bool { return isAlnum(c) || strings.IndexByte("+=,.@:/-_", c) >= 0 })
}

// RolePolicyRef: ROLE_NAME/POLICY_NAME, each in IAM's name characters.
func RolePolicyRef(s string) bool {
	role, name, ok := strings.Cut(s, "/")
	iamName := func(c byte) bool { return isAlnum(c) || strings.IndexByte("+=,.@_-", c) >= 0 }
	return ok && role != "" && len(role) <= 64 && name != "" && len(name) <= 128 && allBytes(role, iamName) && allBytes(name, iamName)
}

// hexID: prefix and 8 or 17 lowercase hex digits (EC2's resource ids).
func hexID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && (len(rest) == 8 || len(rest) == 17) && LowerHex(rest, len(rest))
}

// SecurityGroupID: sg- and 8 or 17 hex digits.
func SecurityGroupID(s string) bool { return hexID(s, "sg-") }

// PrefixListID: pl- and 8 or 17 hex digits.
func PrefixListID(s string) bool { return hexID(s, "pl-") }

// WAFIPSetARN: arn:partition:wafv2:region:account:SCOPE/ipset/NAME/ID,
// SCOPE regional or global. It returns the scope.
func WAFIPSetARN(s string) (scope string, ok bool) {
	r, ok := arn(s, "wafv2")
	p := strings.Split(r, "/")
	if !ok || len(p) != 4 || (p[0] != "regional" && p[0] != "global") || p[1] != "ipset" {
		return "", false
	}
	name, id := p[2], p[3]
	okName := name != "" && len(name) <= 128 && allBytes(name, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' })
	okID := id != "" && len(id) <= 36 && allBytes(id, func(c byte) bool { return isAlnum(c) || c == '-' })
	return p[0], okName && okID
}
