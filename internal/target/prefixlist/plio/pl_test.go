package plio

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// slowList is a list that stays modify-in-progress for a few looks after
// each modify, as EC2's does (moto's completes at once).
type slowList struct {
	entries  []types.PrefixListEntry
	version  int64
	busy     int // looks left that answer modify-in-progress
	lag      int
	modifies []string
}

func (l *slowList) DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	state := types.PrefixListStateModifyComplete
	if l.busy > 0 {
		l.busy--
		state = types.PrefixListStateModifyInProgress
	}
	return &ec2.DescribeManagedPrefixListsOutput{PrefixLists: []types.ManagedPrefixList{{
		AddressFamily: aws.String("IPv4"), MaxEntries: aws.Int32(10), Version: aws.Int64(l.version), State: state}}}, nil
}

func (l *slowList) GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error) {
	return &ec2.GetManagedPrefixListEntriesOutput{Entries: l.entries}, nil
}

func (l *slowList) ModifyManagedPrefixList(_ context.Context, in *ec2.ModifyManagedPrefixListInput, _ ...func(*ec2.Options)) (*ec2.ModifyManagedPrefixListOutput, error) {
	l.modifies = append(l.modifies, aws.ToString(in.AddEntries[0].Cidr))
	for _, e := range in.AddEntries {
		l.entries = append(l.entries, types.PrefixListEntry{Cidr: e.Cidr, Description: e.Description})
	}
	l.version++
	l.busy = l.lag
	return &ec2.ModifyManagedPrefixListOutput{}, nil
}

func TestWriteWaitsForModifyComplete(t *testing.T) {
	l := &slowList{version: 1, lag: 2}
	var slept []time.Duration
	a := New(l, func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil })
	if err := a.Write(context.Background(), target.Ref{Resource: "pl-0123abcd", Sid: "ipsync:"}, target.Change{Set: ipset.MustParse("192.0.2.1/32")}); err != nil {
		t.Fatal(err)
	}
	if len(l.modifies) != 1 || len(slept) != 2 {
		t.Fatalf("%d modifies, %d waits for modify-complete (want 1 and 2)", len(l.modifies), len(slept))
	}
}

// A list that never settles ends with the context's error, not a spin.
func TestWriteGivesUpWithTheContext(t *testing.T) {
	l := &slowList{version: 1, busy: 1 << 30}
	ctx, cancel := context.WithCancel(context.Background())
	waits := 0
	a := New(l, func(c context.Context, _ time.Duration) error {
		if waits++; waits == 3 {
			cancel()
		}
		return c.Err()
	})
	err := a.Write(ctx, target.Ref{Resource: "pl-0123abcd", Sid: "ipsync:"}, target.Change{Set: ipset.MustParse("192.0.2.1/32")})
	if err == nil || !strings.Contains(err.Error(), "modify-in-progress") || len(l.modifies) != 0 {
		t.Fatalf("%v, %d modifies", err, len(l.modifies))
	}
}
