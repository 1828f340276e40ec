// Package atlasaccesslist manages entries of an Atlas project's IP access
// list (target type atlas-access-list; resource = project id). It owns only
// the entries whose comment starts with the target's Sid (its managed
// prefix); every other entry is left alone.
//
// The loop works on policy documents, so Read presents the list as one:
// a statement per managed prefix holding that prefix's entries in an
// IpAddress aws:SourceIp condition, and a statement "NotManaged" with the
// rest (security groups apart). Write turns the owned statement back into
// entries: one POST per entry to add, one after the other (Atlas refuses
// concurrent changes to one list), and one DELETE per entry to remove.
package atlasaccesslist

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// accessListAPI is what the adapter needs of the Atlas client.
type accessListAPI interface {
	AccessList(ctx context.Context, groupID string) ([]atlas.AccessEntry, error)
	AddAccessEntry(ctx context.Context, groupID string, e atlas.AccessEntry) error
	DeleteAccessEntry(ctx context.Context, groupID, value string) error
}

// NotManaged is the Sid of the statement holding the entries ipsync does
// not own.
const NotManaged = "NotManaged"

const kind = "Atlas project IP access list"

// Adapter is the atlas-access-list target.
type Adapter struct {
	api      accessListAPI
	prefixes []string // longest first
}

// New returns an adapter for the managed prefixes of every access-list
// target in the config.
func New(api accessListAPI, prefixes []string) *Adapter {
	p := append([]string(nil), prefixes...)
	sort.Slice(p, func(i, j int) bool { return len(p[i]) > len(p[j]) })
	return &Adapter{api: api, prefixes: p}
}

type statement struct {
	Sid            string              `json:"Sid"`
	Effect         string              `json:"Effect"`
	Condition      map[string]ipValues `json:"Condition"`
	SecurityGroups []string            `json:"SecurityGroups,omitempty"`
}

type ipValues struct {
	SourceIP []string `json:"aws:SourceIp"`
}

type document struct {
	AccessList string      `json:"AtlasProjectAccessList"`
	Statement  []statement `json:"Statement"`
}

func (a *Adapter) owner(comment string) string {
	for _, p := range a.prefixes {
		if strings.HasPrefix(comment, p) {
			return p
		}
	}
	return ""
}

// Read presents the project's access list as a policy document.
func (a *Adapter) Read(ctx context.Context, groupID string) ([]byte, error) {
	entries, err := a.api.AccessList(ctx, groupID)
	if err != nil {
		return nil, classify("read", groupID, err)
	}
	managed := map[string][]string{}
	var others, groups []string
	for _, e := range entries {
		if e.CIDRBlock == "" && e.IPAddress == "" {
			groups = append(groups, e.AWSSecurityGroup)
			continue
		}
		cidr, err := canonical(e.Value())
		if err != nil {
			return nil, &target.Error{Op: "read", Kind: kind, Resource: groupID, Err: err}
		}
		if p := a.owner(e.Comment); p != "" {
			managed[p] = append(managed[p], cidr)
		} else {
			others = append(others, cidr)
		}
	}
	doc := document{AccessList: groupID}
	for _, p := range a.prefixes {
		doc.Statement = append(doc.Statement, statement{Sid: p, Effect: "Allow", Condition: map[string]ipValues{"IpAddress": {SourceIP: nonNil(managed[p])}}})
	}
	doc.Statement = append(doc.Statement, statement{Sid: NotManaged, Effect: "Allow", Condition: map[string]ipValues{"IpAddress": {SourceIP: nonNil(others)}}, SecurityGroups: groups})
	return json.Marshal(doc)
}

// Write makes the managed entries of each prefix equal what the document's
// statement for that prefix holds.
func (a *Adapter) Write(ctx context.Context, groupID string, doc []byte) error {
	entries, err := a.api.AccessList(ctx, groupID)
	if err != nil {
		return classify("read", groupID, err)
	}
	for _, p := range a.prefixes {
		cond, err := policy.Read(doc, p)
		if policy.IsNoStatement(err) {
			continue // this document speaks for other prefixes only
		}
		if err != nil {
			return &target.Error{Op: "write", Kind: kind, Resource: groupID, Err: err}
		}
		want, err := ipset.Parse(cond.Values)
		if err != nil {
			return &target.Error{Op: "write", Kind: kind, Resource: groupID, Err: err}
		}
		if err := a.apply(ctx, groupID, p, want, entries); err != nil {
			return err
		}
	}
	return nil
}

func (a *Adapter) apply(ctx context.Context, groupID, prefix string, want ipset.Set, entries []atlas.AccessEntry) error {
	have := map[string]atlas.AccessEntry{}    // managed by this prefix
	foreign := map[string]atlas.AccessEntry{} // anyone else's
	for _, e := range entries {
		cidr, err := canonical(e.Value())
		if err != nil {
			continue // a security group
		}
		if a.owner(e.Comment) == prefix {
			have[cidr] = e
		} else {
			foreign[cidr] = e
		}
	}
	wanted := map[string]bool{}
	for _, cidr := range want.Strings() {
		wanted[cidr] = true
		if _, ok := have[cidr]; ok {
			continue
		}
		if e, ok := foreign[cidr]; ok {
			return &target.Error{Op: "write", Kind: kind, Resource: groupID, Err: fmt.Errorf("%s is already on the list with comment %q", cidr, e.Comment),
				Hint: fmt.Sprintf("ipsync does not take over an entry it does not own: delete it, or change its comment to start with %q", prefix)}
		}
		// One at a time: Atlas refuses concurrent changes to one list.
		if err := a.api.AddAccessEntry(ctx, groupID, atlas.AccessEntry{CIDRBlock: cidr, Comment: prefix}); err != nil {
			return classify("add "+cidr+" to", groupID, err)
		}
	}
	for cidr, e := range have {
		if wanted[cidr] {
			continue
		}
		if err := a.api.DeleteAccessEntry(ctx, groupID, e.Value()); err != nil {
			return classify("delete "+cidr+" from", groupID, err)
		}
	}
	return nil
}

func canonical(v string) (string, error) {
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.Masked().String(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return "", fmt.Errorf("the access list holds %q, which is not an IP address or CIDR block", v)
	}
	return netip.PrefixFrom(a, a.BitLen()).String(), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	sort.Strings(s)
	return s
}

func classify(op, groupID string, err error) error {
	// Atlas's errors carry their own hints (credentials, roles, access list).
	return &target.Error{Op: op, Kind: kind, Resource: groupID, Err: err}
}
