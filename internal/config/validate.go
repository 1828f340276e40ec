package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ids"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/admission"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot/location"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// TargetType names a kind of fence (target.Type, which plan shares).
type TargetType = target.Type

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
		if !ids.ProjectID(p) {
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
	if t := c.Notify.TopicArn; t != "" && (len(t) > 320 || !ids.SNSTopicARN(t)) {
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
	if err := c.Guards.WidestPrefix.Check(); err != nil {
		errs = append(errs, err)
	}
	if w := time.Duration(c.Verify.Window); w < 0 || w > MaxVerifyWindow {
		add("verify.window %s: want 0 to %s (the reconcile function times out at 5m)", w, MaxVerifyWindow)
	}
	if i := time.Duration(c.Verify.Interval); i < time.Second {
		add("verify.interval %s: want at least 1s", i)
	}

	if id := c.GCP.Credentials.SecretID; id != "" && !validSecretRef(id) {
		add("gcp.credentials.secretId %q: want a Secrets Manager secret name or ARN", id)
	}
	if e := c.GCP.Endpoint; e != "" {
		if err := checkEndpoint(e); err != nil {
			add("gcp.endpoint: %v", err)
		}
	}
	c.validateAzure(add)
	if t, ok := c.needs(target.CloudGCP); ok && c.GCP.Credentials.SecretID == "" {
		add("target %q: a %s target needs gcp.credentials.secretId (a service-account key or external_account JSON in Secrets Manager)", t.Name, t.Type)
	}
	for typ := range c.TargetDefaults {
		if _, ok := c.Kinds().Lookup(typ); !ok {
			add("targetDefaults: %q is not a target type (%s)", typ, c.Kinds().Names())
		}
	}
	names := map[string]bool{}
	owners := map[string]string{}    // type + resource + sid → target name
	exclusive := map[string]string{} // type + resource → the target of a kind that takes one per resource
	for i, t := range c.Targets {
		where := "targets[" + strconv.Itoa(i) + "]" // not fmt: this runs at every cold start
		if t.Name != "" {
			where = "target " + strconv.Quote(t.Name)
		}
		if len(t.Name) > 64 || !ids.TargetName(t.Name) {
			add("%s: name %q: want 1-64 letters, digits, '.', '_' or '-'", where, t.Name)
		}
		if names[t.Name] {
			add("%s: name used by two targets", where)
		}
		names[t.Name] = true
		var rules target.Rules
		if k, known := c.Kinds().Lookup(t.Type); known {
			rules = k.Rules()
			checkKind(k, rules, t, where, exclusive, add)
		} else {
			add("%s: type %q: want %s", where, t.Type, c.Kinds().Names())
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
			switch nat := s.Kind == SourceNATGateways; {
			case nat && rules.Feeds != target.FeedNATGateways:
				add("%s: source %s: NAT gateway addresses feed only atlas-access-list targets", where, s)
			case !nat && rules.Feeds == target.FeedNATGateways:
				add("%s: source %s: an access list takes nat-gateways:KEY=VALUE sources and static CIDRs (Atlas's own addresses do not belong in it)", where, s)
			}
			if s.UsesNodes() && len(c.Atlas.Projects) == 0 {
				add("%s: source %s needs atlas.projects", where, s)
			}
		}
		for _, p := range t.EncryptionAtRestProjects {
			if !ids.ProjectID(p) {
				add("%s: encryptionAtRestProjects: %q is not a project id (24 lowercase hex digits)", where, p)
			}
		}
		if len(t.EncryptionAtRestProjects) > 0 && !rules.EncryptionAtRest {
			add("%s: encryptionAtRestProjects: only %s targets are verified with Atlas's encryption at rest", where, c.verifiedKinds())
		}
		if t.RoleArn != "" && rules.OutsideAWS {
			add("%s: roleArn: a %s target is not in AWS; its credentials are its cloud's (the gcp or azure block)", where, t.Type)
		}
		if t.RoleArn != "" && !ids.RoleARN(t.RoleArn) {
			add("%s: roleArn %q: want arn:aws:iam::account:role/name", where, t.RoleArn)
		}
		if t.ExternalID != "" && (t.RoleArn == "" || !ids.ExternalID(t.ExternalID)) {
			add("%s: externalId: want 2-1224 letters, digits or +=,.@:/- and a roleArn to go with it", where)
		}
		checkStatic(i, t, where, add)
	}
	return errors.Join(errs...)
}

// verifiedKinds names the kinds whose targets may name
// encryptionAtRestProjects: "kms-key-policy, security-group".
func (c *Config) verifiedKinds() string {
	var names []string
	for _, k := range c.Kinds() {
		if k.Rules().EncryptionAtRest {
			names = append(names, string(k.Type()))
		}
	}
	return strings.Join(names, ", ")
}

// checkKind applies a kind's own rules to one of its targets.
func checkKind(k target.Kind, rules target.Rules, t Target, where string, exclusive map[string]string, add func(string, ...any)) {
	if err := k.CheckResource(t.Resource); err != nil {
		add("%s: resource %q: %v", where, t.Resource, err)
	}
	if rules.MaxSid > 0 && len(t.Sid) > rules.MaxSid {
		add("%s: sid: it is %s: at most %d characters", where, rules.SidMeans, rules.MaxSid)
	}
	if rules.SidChars != nil && !rules.SidChars(t.Sid) {
		add("%s: sid %q: it is %s, and %s refuses some of its characters", where, t.Sid, rules.SidMeans, k.Noun())
	}
	switch o := t.Options(); {
	case rules.CheckOptions != nil:
		if err := rules.CheckOptions(o); err != nil {
			add("%s: %v", where, err)
		}
	case !o.IsZero():
		add("%s: direction, protocol, ports and maxRules belong to security-group targets, not %s", where, t.Type)
	}
	if rules.OnePerResource {
		key := string(t.Type) + " " + t.Resource
		if other := exclusive[key]; other != "" {
			add("%s: %s %s is already managed by target %q (the service refuses concurrent changes to one fence)", where, k.Noun(), t.Resource, other)
		}
		exclusive[key] = t.Name
	}
}

// validSecretRef is a Secrets Manager secret name or ARN.
func validSecretRef(id string) bool { return len(id) <= 2048 && ids.SecretRef(id) }

// checkEndpoint allows https anywhere, plain http only to a loopback host
// (a simulator).
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q: want https://host", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); u.Scheme == "https" || u.Scheme == "http" && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%q: want https://host (plain http only to a loopback address)", raw)
}

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

// validateAzure checks the azure block: what an azure-key-vault target
// needs, one way to sign in, and endpoints that keep tokens off clear text.
func (c *Config) validateAzure(add func(string, ...any)) {
	a := c.Azure
	if _, needed := c.needs(target.CloudAzure); !needed && a == (Azure{}) {
		return
	}
	for _, f := range []struct{ key, v string }{{"tenantId", a.TenantID}, {"clientId", a.ClientID}} {
		if !uuidLike(f.v) {
			add("azure.%s %q: want the Entra %s, a GUID (00000000-0000-0000-0000-000000000000)", f.key, f.v, map[string]string{"tenantId": "directory (tenant) ID", "clientId": "application (client) ID"}[f.key])
		}
	}
	switch {
	case a.Credentials.SecretID != "" && a.Federation != nil:
		add("azure: give credentials.secretId or federation, not both")
	case a.Credentials.SecretID == "" && a.Federation == nil:
		add(`azure: give credentials.secretId (a Secrets Manager secret {"clientSecret": "..."}) or federation: {audience: %s} (sign in with a web identity token from AWS STS)`, DefaultAzureAudience)
	case a.Credentials.SecretID != "" && !validSecretRef(a.Credentials.SecretID):
		add("azure.credentials.secretId %q: want a Secrets Manager secret name or ARN", a.Credentials.SecretID)
	}
	for _, e := range []struct{ key, v string }{{"authorityURL", a.AuthorityURL}, {"managementURL", a.ManagementURL}} {
		if e.v != "" {
			if err := checkEndpoint(e.v); err != nil {
				add("azure.%s: %v", e.key, err)
			}
		}
	}
}

// needs is the first target whose kind needs the cloud's block.
func (c *Config) needs(cloud target.Cloud) (Target, bool) {
	for _, t := range c.Targets {
		if k, ok := c.Kinds().Lookup(t.Type); ok && k.Rules().Cloud == cloud {
			return t, true
		}
	}
	return Target{}, false
}

// uuidLike is a GUID's 8-4-4-4-12 hex digits.
func uuidLike(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// checkStatic holds a person's static CIDRs to what no source may exceed
// either: never every address, never broader than /8 (IPv4) or /16 (IPv6).
// Each error names the key.
func checkStatic(i int, t Target, where string, add func(string, ...any)) {
	for j, v := range t.Static {
		key := "targets[" + strconv.Itoa(i) + "].static[" + strconv.Itoa(j) + "]"
		p, err := ipset.ParsePrefix(v)
		switch {
		case err != nil:
			add("%s (%s): %v", key, where, err)
		case p.Bits() == 0:
			add("%s (%s): %s allows every address; ipsync never writes it", key, where, p)
		case p.Addr().Is4() && p.Bits() < admission.MinWidestIPv4, !p.Addr().Is4() && p.Bits() < admission.MinWidestIPv6:
			add("%s (%s): %s is broader than /%d (IPv4) or /%d (IPv6), the widest static CIDR ipsync writes", key, where, p, admission.MinWidestIPv4, admission.MinWidestIPv6)
		}
	}
}
