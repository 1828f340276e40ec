// Package accesslistio reads and changes an Atlas project's IP access list
// (the atlas-access-list kind). It manages only the entries whose comment
// starts with the target's prefix: it adds one entry per desired prefix,
// one after the other (Atlas refuses concurrent changes to one list), and
// deletes the managed entries no longer desired.
package accesslistio

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/atlasaccesslist"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/entries"
)

// accessListAPI is what the adapter needs of the Atlas client.
type accessListAPI interface {
	AccessList(ctx context.Context, groupID string) ([]atlas.AccessEntry, error)
	AddAccessEntry(ctx context.Context, groupID string, e atlas.AccessEntry) error
	DeleteAccessEntry(ctx context.Context, groupID, value string) error
}

const kind = "Atlas project IP access list"

// Adapter is the atlas-access-list target.
type Adapter struct{ api accessListAPI }

// New returns an adapter over an Atlas client.
func New(api accessListAPI) *Adapter { return &Adapter{api: api} }

// list is a project's entries, split by owner.
type list struct {
	managed map[string]atlas.AccessEntry // by canonical CIDR
	foreign map[string]atlas.AccessEntry // anyone else's, by canonical CIDR
	groups  int                          // security-group entries
}

func (a *Adapter) list(ctx context.Context, groupID, prefix string) (list, error) {
	got, err := a.api.AccessList(ctx, groupID)
	if err != nil {
		return list{}, classify("read", groupID, err)
	}
	l := list{managed: map[string]atlas.AccessEntry{}, foreign: map[string]atlas.AccessEntry{}}
	for _, e := range got {
		if e.CIDRBlock == "" && e.IPAddress == "" {
			l.groups++
			continue
		}
		cidr, err := canonical(e.Value())
		if err != nil {
			return list{}, &target.Error{Op: "read", Kind: kind, Resource: groupID, Err: err}
		}
		if strings.HasPrefix(e.Comment, prefix) {
			l.managed[cidr] = e
		} else {
			l.foreign[cidr] = e
		}
	}
	return l, nil
}

// Read returns the managed entries as a fence.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	l, err := a.list(ctx, ref.Resource, ref.Sid)
	if err != nil {
		return nil, err
	}
	values := make([]string, 0, len(l.managed))
	for cidr := range l.managed {
		values = append(values, cidr)
	}
	managed, err := ipset.Parse(values)
	if err != nil {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	return entries.New(entries.List{Managed: managed, Count: len(l.managed), Others: len(l.foreign) + l.groups, Limit: atlasaccesslist.Capacity, Marker: fmt.Sprintf("comment prefix %q", ref.Sid)}), nil
}

// Write makes the managed entries equal the change's set, reading the list
// afresh: additions first, then removals.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	groupID := ref.Resource
	l, err := a.list(ctx, groupID, ref.Sid)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, cidr := range c.Set.Strings() {
		wanted[cidr] = true
		if _, ok := l.managed[cidr]; ok {
			continue
		}
		if e, ok := l.foreign[cidr]; ok {
			return &target.Error{Op: "write", Kind: kind, Resource: groupID, Err: fmt.Errorf("%s is already on the list with comment %q", cidr, e.Comment),
				Hint: fmt.Sprintf("ipsync does not take over an entry it does not own: delete it, or change its comment to start with %q", ref.Sid)}
		}
		// One at a time: Atlas refuses concurrent changes to one list.
		if err := a.api.AddAccessEntry(ctx, groupID, atlas.AccessEntry{CIDRBlock: cidr, Comment: ref.Sid}); err != nil {
			return classify("add "+cidr+" to", groupID, err)
		}
	}
	for cidr, e := range l.managed {
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

func classify(op, groupID string, err error) error {
	// Atlas's errors carry their own hints (credentials, roles, access list).
	return &target.Error{Op: op, Kind: kind, Resource: groupID, Err: err}
}
