// Package wafio reads and changes an AWS WAF IP set (the waf-ip-set
// kind): GetIPSet, then UpdateIPSet with the whole address list, the
// description as read and the lock token; when someone else changed the
// set meanwhile (WAFOptimisticLockException), it reads it again and
// updates again, a bounded number of times.
package wafio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/wafipset"
)

// API is what the adapter needs of a WAFv2 client.
type API interface {
	GetIPSet(ctx context.Context, in *wafv2.GetIPSetInput, opts ...func(*wafv2.Options)) (*wafv2.GetIPSetOutput, error)
	UpdateIPSet(ctx context.Context, in *wafv2.UpdateIPSetInput, opts ...func(*wafv2.Options)) (*wafv2.UpdateIPSetOutput, error)
}

const kind = "WAF IP set"

// conflicts bounds how often a write starts again after a lost lock.
const conflicts = 3

// Adapter is the waf-ip-set target.
type Adapter struct {
	client  func(region string) API
	mu      sync.Mutex
	clients map[string]API
}

// New returns an adapter whose WAFv2 clients client builds, one per region
// (a set's ARN names its region; a CloudFront set's is us-east-1).
func New(client func(region string) API) *Adapter {
	return &Adapter{client: client, clients: map[string]API{}}
}

func (a *Adapter) api(arn string) API {
	region := ""
	if p := strings.Split(arn, ":"); len(p) > 3 {
		region = p[3]
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.clients[region]
	if !ok {
		c = a.client(region)
		a.clients[region] = c
	}
	return c
}

func (a *Adapter) get(ctx context.Context, arn string) (wafipset.Set, wafipset.Location, error) {
	loc, err := wafipset.Locate(arn)
	if err != nil {
		return wafipset.Set{}, loc, &target.Error{Op: "read", Kind: kind, Resource: arn, Err: err}
	}
	out, err := a.api(arn).GetIPSet(ctx, &wafv2.GetIPSetInput{Id: &loc.ID, Name: &loc.Name, Scope: types.Scope(loc.Scope)})
	if err != nil {
		return wafipset.Set{}, loc, classify("read", arn, err)
	}
	if out.IPSet == nil {
		return wafipset.Set{}, loc, &target.Error{Op: "read", Kind: kind, Resource: arn, Err: errors.New("GetIPSet answered no IP set")}
	}
	s := wafipset.Set{ARN: arn, Description: aws.ToString(out.IPSet.Description), Family: target.IPv4, Addresses: out.IPSet.Addresses, LockToken: aws.ToString(out.LockToken)}
	if out.IPSet.IPAddressVersion == types.IPAddressVersionIpv6 {
		s.Family = target.IPv6
	}
	return s, loc, nil
}

// Read returns the set as a fence.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	s, _, err := a.get(ctx, ref.Resource)
	if err != nil {
		return nil, err
	}
	f, err := wafipset.Fence(s, ref.Sid)
	var no *target.NotOwnedError
	if err != nil && !errors.As(err, &no) {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: ref.Resource, Err: err}
	}
	return f, err
}

// Write replaces the set's addresses with the change's set.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	for attempt := 1; ; attempt++ {
		err := a.write(ctx, ref, c)
		var lost *types.WAFOptimisticLockException
		if !errors.As(err, &lost) || attempt == conflicts {
			return err
		}
	}
}

func (a *Adapter) write(ctx context.Context, ref target.Ref, c target.Change) error {
	s, loc, err := a.get(ctx, ref.Resource)
	if err != nil {
		return err
	}
	// Owned when planned; still owned now? The description is the claim.
	if _, err := wafipset.Fence(s, ref.Sid); err != nil {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: fmt.Errorf("%w: not written", err)}
	}
	addrs := c.Set.Strings()
	if len(addrs) > wafipset.Capacity.Max {
		return &target.Error{Op: "write", Kind: kind, Resource: ref.Resource, Err: &target.SizeError{Capacity: wafipset.Capacity, Size: len(addrs)}}
	}
	in := &wafv2.UpdateIPSetInput{Id: &loc.ID, Name: &loc.Name, Scope: types.Scope(loc.Scope), Addresses: addrs, LockToken: aws.String(s.LockToken)}
	if s.Description != "" {
		in.Description = aws.String(s.Description) // UpdateIPSet clears what it is not given
	}
	if _, err := a.api(ref.Resource).UpdateIPSet(ctx, in); err != nil {
		return classify("write", ref.Resource, err)
	}
	return nil
}

func classify(op, arn string, err error) error {
	e := &target.Error{Op: op, Kind: kind, Resource: arn, Err: err}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return e
	}
	switch api.ErrorCode() {
	case "WAFNonexistentItemException":
		e.Hint = "the IP set does not exist; check the target's ARN (a CloudFront set is read in us-east-1)"
	case "WAFOptimisticLockException":
		e.Hint = "someone else changed the set at each of ipsync's attempts; the next run reads it afresh"
	case "WAFLimitsExceededException":
		e.Hint = "WAF refused the set's size"
	case "WAFInvalidParameterException":
		e.Hint = "WAF refused an address (an IPv6 address in an IPV4 set, or a /0)"
	case "AccessDeniedException", "WAFAccessDeniedException":
		e.Hint = "the caller lacks wafv2:GetIPSet or wafv2:UpdateIPSet on the set"
	}
	return e
}

// FromAWS is the adapter of a run on AWS: one WAFv2 client per region the
// sets name.
func FromAWS(cfg aws.Config) *Adapter {
	return New(func(region string) API {
		return wafv2.NewFromConfig(cfg, func(o *wafv2.Options) { o.Region = region })
	})
}
