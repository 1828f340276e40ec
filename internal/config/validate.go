package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot/location"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// TargetType names a kind of fence (target.Type, which plan shares).
type TargetType = target.Type

// Target types.
const (
	TypeKMSKeyPolicy      TargetType = "kms-key-policy"
	TypeVPCEndpointPolicy TargetType = "vpc-endpoint-policy"
	// TypeIAMRolePolicy is an inline policy of the role Atlas assumes;
	// its resource is ROLE_NAME/POLICY_NAME.
	TypeIAMRolePolicy TargetType = "iam-role-policy"
	// TypeAtlasAccessList is an Atlas project's IP access list; its
	// resource is the project id and its sid the managed comment prefix.
	TypeAtlasAccessList TargetType = "atlas-access-list"
)

var types = []TargetType{TypeKMSKeyPolicy, TypeVPCEndpointPolicy, TypeIAMRolePolicy, TypeAtlasAccessList}

// typeList is the target types, for an error message.
func typeList() string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func knownType(t TargetType) bool {
	for _, k := range types {
		if k == t {
			return true
		}
	}
	return false
}

// validate collects every problem, so a user fixes the config in one pass.
func (c *Config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if err := checkBaseURL(c.Atlas.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if id := c.Atlas.Credentials.SecretID; id != "" && !validSecretRef(id) {
		add("atlas.credentials.secretId %q: want a Secrets Manager secret name or ARN", id)
	}
	if n := c.Atlas.Concurrency; n < 1 || n > 64 {
		add("atlas.concurrency %d: want 1 to 64 projects fetched at once", n)
	}
	seenProject := map[string]bool{}
	for _, p := range c.Atlas.Projects {
		if !isProjectID(p) {
			add("atlas.projects: %q is not a project id (24 lowercase hex digits)", p)
		}
		if seenProject[p] {
			add("atlas.projects: %q listed twice", p)
		}
		seenProject[p] = true
	}
	if _, err := location.Parse(c.Snapshot.URL); err != nil {
		add("snapshot.url: %v", err)
	}
	if t := c.Notify.TopicArn; t != "" && (len(t) > 320 || !isSNSTopicARN(t)) {
		add("notify.topicArn %q: want arn:aws:sns:region:account:name", t)
	}
	if q := c.Trigger.QueueURL; q != "" {
		if u, err := url.Parse(q); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("trigger.queueUrl %q: want the queue's https URL", q)
		}
	}
	if id := c.Webhook.SecretID; id != "" && !validSecretRef(id) {
		add("webhook.secretId %q: want a Secrets Manager secret name or ARN", id)
	}
	if c.Guards.MinAddresses < 1 {
		add("guards.minAddresses %d: must be at least 1, or an empty answer from Atlas could empty a policy", c.Guards.MinAddresses)
	}
	if p := c.Guards.MaxRemovePercent; p <= 0 || p > 100 {
		add("guards.maxRemovePercent %v: want more than 0 and at most 100", p)
	}
	if c.Guards.RemovalGrace < 0 {
		add("guards.removalGrace: must not be negative")
	}
	if w := time.Duration(c.Verify.Window); w < 0 || w > MaxVerifyWindow {
		add("verify.window %s: want 0 to %s (the reconcile function times out at 5m)", w, MaxVerifyWindow)
	}
	if i := time.Duration(c.Verify.Interval); i < time.Second {
		add("verify.interval %s: want at least 1s", i)
	}

	for typ := range c.TargetDefaults {
		if !knownType(typ) {
			add("targetDefaults: %q is not a target type (%s)", typ, typeList())
		}
	}
	names := map[string]bool{}
	owners := map[string]string{}      // resource + sid → target name
	accessLists := map[string]string{} // project → access-list target name
	for i, t := range c.Targets {
		where := "targets[" + strconv.Itoa(i) + "]" // not fmt: this runs at every cold start
		if t.Name != "" {
			where = "target " + strconv.Quote(t.Name)
		}
		if len(t.Name) > 64 || !isTargetName(t.Name) {
			add("%s: name %q: want 1-64 letters, digits, '.', '_' or '-'", where, t.Name)
		}
		if names[t.Name] {
			add("%s: name used by two targets", where)
		}
		names[t.Name] = true
		switch t.Type {
		case TypeKMSKeyPolicy:
			if !isKMSKeyARN(t.Resource) && !isKMSKeyID(t.Resource) {
				add("%s: resource %q: want a KMS key ARN (arn:aws:kms:region:account:key/id) or key id (aliases cannot carry a key policy)", where, t.Resource)
			}
		case TypeVPCEndpointPolicy:
			if !isVPCEndpointID(t.Resource) {
				add("%s: resource %q: want a VPC endpoint id (vpce-…)", where, t.Resource)
			}
		case TypeAtlasAccessList:
			if !isProjectID(t.Resource) {
				add("%s: resource %q: want the Atlas project id (24 lowercase hex digits)", where, t.Resource)
			}
			if len(t.Sid) > 80 {
				add("%s: sid: it is the managed entries' comment prefix: at most 80 characters", where)
			}
			if accessLists[t.Resource] != "" {
				add("%s: project %s's access list is already managed by target %q (Atlas refuses concurrent changes to one list)", where, t.Resource, accessLists[t.Resource])
			}
			accessLists[t.Resource] = t.Name
			for _, s := range t.Sources {
				if s.Kind != SourceNATGateways {
					add("%s: source %s: an access list takes nat-gateways:KEY=VALUE sources and static CIDRs (Atlas's own addresses do not belong in it)", where, s)
				}
			}
		case TypeIAMRolePolicy:
			if !isRolePolicyRef(t.Resource) {
				add("%s: resource %q: want ROLE_NAME/POLICY_NAME (the role's name, not its ARN, and the inline policy's name)", where, t.Resource)
			}
		default:
			add("%s: type %q: want %s", where, t.Type, typeList())
		}
		if strings.TrimSpace(t.Sid) == "" {
			add("%s: sid is required: it names the one statement ipsync owns", where)
		}
		owner := string(t.Type) + " " + t.Resource + " " + t.Sid
		if other, ok := owners[owner]; ok {
			add("%s: resource %s statement %q is already owned by target %q; two targets cannot own one statement", where, t.Resource, t.Sid, other)
		}
		owners[owner] = t.Name
		if len(t.Sources) == 0 && len(t.Static) == 0 {
			add("%s: no sources and no static CIDRs: nothing to allow", where)
		}
		seenSource := map[string]bool{}
		for _, s := range t.Sources {
			if seenSource[s.String()] {
				add("%s: source %s listed twice", where, s)
			}
			seenSource[s.String()] = true
			if s.Kind == SourceNATGateways && t.Type != TypeAtlasAccessList {
				add("%s: source %s: NAT gateway addresses feed only atlas-access-list targets", where, s)
			}
			if s.UsesNodes() && len(c.Atlas.Projects) == 0 {
				add("%s: source %s needs atlas.projects", where, s)
			}
		}
		for _, p := range t.EncryptionAtRestProjects {
			if !isProjectID(p) {
				add("%s: encryptionAtRestProjects: %q is not a project id (24 lowercase hex digits)", where, p)
			}
		}
		if len(t.EncryptionAtRestProjects) > 0 && t.Type != TypeKMSKeyPolicy {
			add("%s: encryptionAtRestProjects: only a kms-key-policy target guards encryption at rest", where)
		}
		if t.RoleArn != "" && !isRoleARN(t.RoleArn) {
			add("%s: roleArn %q: want arn:aws:iam::account:role/name", where, t.RoleArn)
		}
		if t.ExternalID != "" && (t.RoleArn == "" || !isExternalID(t.ExternalID)) {
			add("%s: externalId: want 2-1224 letters, digits or +=,.@:/- and a roleArn to go with it", where)
		}
		if _, err := ipset.Parse(t.Static); err != nil {
			add("%s: static: %v", where, err)
		}
	}
	return errors.Join(errs...)
}

// validSecretRef is a Secrets Manager secret name or ARN.
func validSecretRef(id string) bool { return len(id) <= 2048 && isSecretRef(id) }

// checkBaseURL allows https anywhere, and plain http only to a loopback
// host (the local simulator): credentials never cross a network in clear.
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("atlas.baseURL %q: want https://host, e.g. %s or https://cloud.mongodbgov.com", raw, DefaultBaseURL)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("atlas.baseURL %q: plain http is only allowed to a loopback address", raw)
	}
	return fmt.Errorf("atlas.baseURL %q: want https://host", raw)
}
