// Package plio reads and changes a customer-managed prefix list (the
// prefix-list kind). Each change names the version it was computed
// against; when someone else changed the list meanwhile, EC2 refuses it
// (PrefixListVersionMismatch), and the adapter reads the list again and
// computes the change again, a bounded number of times.
package plio

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/prefixlist"
)

// listAPI is what the adapter needs of the EC2 client.
type listAPI interface {
	DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, opts ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(ctx context.Context, in *ec2.GetManagedPrefixListEntriesInput, opts ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
	ModifyManagedPrefixList(ctx context.Context, in *ec2.ModifyManagedPrefixListInput, opts ...func(*ec2.Options)) (*ec2.ModifyManagedPrefixListOutput, error)
}

const kind = "prefix list"

// conflicts bounds how often a write starts again after a version conflict.
const conflicts = 3

// Adapter is the prefix-list target.
type Adapter struct {
	api   listAPI
	sleep func(context.Context, time.Duration) error
	poll  time.Duration
}

// New returns an adapter over an EC2 client; it waits between two looks
// at a list that is being modified with sleep.
func New(api listAPI, sleep func(context.Context, time.Duration) error) *Adapter {
	return &Adapter{api: api, sleep: sleep, poll: time.Second}
}

// list is a list as read, with its entries' owners.
type list struct {
	prefixlist.List
	state string
}

func (a *Adapter) list(ctx context.Context, id string) (list, error) {
	out, err := a.api.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{id}})
	if err != nil {
		return list{}, classify("read", id, err)
	}
	if len(out.PrefixLists) != 1 {
		return list{}, &target.Error{Op: "read", Kind: kind, Resource: id, Err: fmt.Errorf("%d lists answered", len(out.PrefixLists)), Hint: "check the list id and AWS_REGION"}
	}
	pl := out.PrefixLists[0]
	l := list{List: prefixlist.List{ID: id, Family: target.IPv4, MaxEntries: int(aws.ToInt32(pl.MaxEntries)), Version: aws.ToInt64(pl.Version)}, state: string(pl.State)}
	if aws.ToString(pl.AddressFamily) == "IPv6" {
		l.Family = target.IPv6
	}
	in := &ec2.GetManagedPrefixListEntriesInput{PrefixListId: &id, TargetVersion: pl.Version}
	for p := ec2.NewGetManagedPrefixListEntriesPaginator(a.api, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return list{}, classify("read", id, err)
		}
		for _, e := range page.Entries {
			c, err := netip.ParsePrefix(aws.ToString(e.Cidr))
			if err != nil {
				return list{}, &target.Error{Op: "read", Kind: kind, Resource: id, Err: fmt.Errorf("an entry holds %q, which is not a CIDR", aws.ToString(e.Cidr))}
			}
			l.Entries = append(l.Entries, prefixlist.Entry{CIDR: c.Masked().String(), Description: aws.ToString(e.Description)})
		}
	}
	return l, nil
}

// Read returns the list's managed entries as a fence.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	l, err := a.list(ctx, ref.Resource)
	if err != nil {
		return nil, err
	}
	f, err := prefixlist.Fence(l.List, ref.Sid)
	if err != nil {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	return f, nil
}

// Write makes the managed entries hold the change's set.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	for attempt := 1; ; attempt++ {
		err := a.write(ctx, ref, c.Set)
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "PrefixListVersionMismatch" || attempt == conflicts {
			return err
		}
	}
}

// write reads the list and modifies it from that version, at most
// MaxPerModify entries a call, never over MaxEntries.
func (a *Adapter) write(ctx context.Context, ref target.Ref, want ipset.Set) error {
	id := ref.Resource
	l, err := a.settled(ctx, id)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, p := range want.Strings() {
		wanted[p] = true
	}
	have := map[string]bool{}
	var remove []string
	others := 0
	for _, e := range l.Entries {
		switch {
		case !e.OwnedBy(ref.Sid):
			others++
		case wanted[e.CIDR]:
			have[e.CIDR] = true
		default:
			remove = append(remove, e.CIDR)
		}
	}
	var add []string
	for _, p := range want.Strings() {
		if !have[p] {
			add = append(add, p)
		}
	}
	// The plan checked this against the list it read; check it against
	// the list as it is now.
	if n := others + want.Len(); n > l.MaxEntries {
		return &target.Error{Op: "write", Kind: kind, Resource: id, Err: &target.SizeError{Capacity: prefixlist.Capacity(id, l.MaxEntries), Size: n}}
	}
	count, version := len(l.Entries), l.Version
	desc := aws.String(ref.Sid + prefixlist.Suffix)
	for len(add) > 0 || len(remove) > 0 {
		// Additions first; removals fill the call, and one call is
		// applied whole, so a call's removals make room for its additions.
		na := min(len(add), prefixlist.MaxPerModify)
		nr := min(len(remove), prefixlist.MaxPerModify-na)
		for na > 0 && count+na-nr > l.MaxEntries {
			na--
			nr = min(len(remove), prefixlist.MaxPerModify-na)
		}
		if na == 0 && nr == 0 {
			return &target.Error{Op: "write", Kind: kind, Resource: id, Err: fmt.Errorf("no room to add %d entries", len(add))}
		}
		in := &ec2.ModifyManagedPrefixListInput{PrefixListId: &id, CurrentVersion: aws.Int64(version)}
		for _, p := range add[:na] {
			in.AddEntries = append(in.AddEntries, types.AddPrefixListEntry{Cidr: aws.String(p), Description: desc})
		}
		for _, p := range remove[:nr] {
			in.RemoveEntries = append(in.RemoveEntries, types.RemovePrefixListEntry{Cidr: aws.String(p)})
		}
		if _, err := a.api.ModifyManagedPrefixList(ctx, in); err != nil {
			return classify("write", id, fmt.Errorf("modify at version %d (+%d -%d): %w", version, na, nr, err))
		}
		add, remove, count = add[na:], remove[nr:], count+na-nr
		after, err := a.settled(ctx, id)
		if err != nil {
			return err
		}
		version = after.Version
	}
	return nil
}

// settled reads the list once no modification of it is in progress.
func (a *Adapter) settled(ctx context.Context, id string) (list, error) {
	for {
		l, err := a.list(ctx, id)
		if err != nil {
			return l, err
		}
		switch l.state {
		case "create-in-progress", "modify-in-progress", "restore-in-progress":
		case "create-failed", "modify-failed", "restore-failed", "delete-in-progress", "delete-complete", "delete-failed":
			return l, &target.Error{Op: "write", Kind: kind, Resource: id, Err: fmt.Errorf("the list is %s", l.state), Hint: "see the list's StateMessage in the console or describe-managed-prefix-lists"}
		default:
			return l, nil
		}
		if err := a.sleep(ctx, a.poll); err != nil {
			return l, fmt.Errorf("wait for prefix list %s (%s): %w", id, l.state, err)
		}
	}
}

func classify(op, id string, err error) error {
	e := &target.Error{Op: op, Kind: kind, Resource: id, Err: err}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return e
	}
	switch api.ErrorCode() {
	case "InvalidPrefixListID.NotFound", "InvalidPrefixListId.NotFound", "InvalidPrefixListId.Malformed":
		e.Hint = "the prefix list does not exist in this account and region; check the target's resource and AWS_REGION"
	case "PrefixListVersionMismatch":
		e.Hint = "someone else changed the list at each of ipsync's attempts; the next run reads it afresh"
	case "PrefixListMaxEntriesExceeded":
		e.Hint = "the list is full: raise its MaxEntries (ipsync does not resize a list)"
	case "IncorrectState":
		e.Hint = "the list is being modified; the next run tries again"
	case "UnauthorizedOperation", "AccessDenied":
		e.Hint = "the caller lacks ec2:DescribeManagedPrefixLists, ec2:GetManagedPrefixListEntries or ec2:ModifyManagedPrefixList on the list"
	}
	return e
}
