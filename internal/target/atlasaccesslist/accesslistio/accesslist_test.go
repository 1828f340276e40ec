package accesslistio

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// fakeList is an access list in memory.
type fakeList struct{ entries []atlas.AccessEntry }

func (f *fakeList) AccessList(context.Context, string) ([]atlas.AccessEntry, error) {
	return append([]atlas.AccessEntry(nil), f.entries...), nil
}
func (f *fakeList) AddAccessEntry(_ context.Context, _ string, e atlas.AccessEntry) error {
	f.entries = append(f.entries, e)
	return nil
}
func (f *fakeList) DeleteAccessEntry(_ context.Context, _ string, value string) error {
	for i, e := range f.entries {
		if e.Value() == value {
			f.entries = append(f.entries[:i], f.entries[i+1:]...)
			return nil
		}
	}
	return nil
}

// Read counts every entry against the limit but owns only the prefix's;
// Write adds and deletes only those, and refuses to take over an entry
// someone else made for an address it must add.
func TestReadAndWriteOwnOnlyThePrefix(t *testing.T) {
	f := &fakeList{entries: []atlas.AccessEntry{
		{CIDRBlock: "192.0.2.1/32", Comment: "atlas-ip-sync: nat"},
		{IPAddress: "192.0.2.2", Comment: "atlas-ip-sync:"},
		{CIDRBlock: "198.51.100.0/24", Comment: "office VPN"},
		{AWSSecurityGroup: "sg-0123456789abcdef0"},
	}}
	a := New(f)
	ref := target.Ref{Resource: "5aec7afbf7d068e35a39809b", Sid: "atlas-ip-sync:"}
	fence, err := a.Read(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := fence.Owned().Strings(); strings.Join(got, " ") != "192.0.2.1/32 192.0.2.2/32" {
		t.Errorf("owned %v", got)
	}
	if fence.Used() != 4 {
		t.Errorf("used %d, want 4 (security groups count)", fence.Used())
	}
	change, err := fence.Rewrite(ipset.MustParse("192.0.2.1/32", "203.0.113.9/32"), fence.Capacity())
	if err != nil || change.Size != 4 {
		t.Fatalf("rewrite: %+v %v", change, err)
	}
	if err := a.Write(context.Background(), ref, change); err != nil {
		t.Fatal(err)
	}
	after, _ := a.Read(context.Background(), ref)
	if !after.Owned().Equal(change.Set) || after.Used() != 4 {
		t.Errorf("after the write: owned %v used %d", after.Owned(), after.Used())
	}
	taken, _ := after.Rewrite(ipset.MustParse("198.51.100.0/24"), after.Capacity())
	err = a.Write(context.Background(), ref, taken)
	if err == nil || !strings.Contains(err.Error(), `comment "office VPN"`) {
		t.Errorf("taking over the office's entry: %v", err)
	}
}

// A list the rewrite would overfill is refused before anything is written.
func TestRewriteCountsEveryEntry(t *testing.T) {
	f := &fakeList{}
	for i := range 199 {
		f.entries = append(f.entries, atlas.AccessEntry{CIDRBlock: fmt.Sprintf("10.0.%d.0/24", i), Comment: "someone"})
	}
	fence, err := New(f).Read(context.Background(), target.Ref{Resource: "p", Sid: "atlas-ip-sync:"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fence.Rewrite(ipset.MustParse("192.0.2.1/32"), fence.Capacity()); err != nil {
		t.Errorf("200 entries fit: %v", err)
	}
	_, err = fence.Rewrite(ipset.MustParse("192.0.2.1/32", "192.0.2.3/32"), fence.Capacity())
	if err == nil || err.Error() != "the Atlas project IP access list would hold 201 entries; the limit is 200" {
		t.Errorf("201 entries: %v", err)
	}
}
