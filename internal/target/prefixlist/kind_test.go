package prefixlist

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestFenceSplitsOwnersAndCountsEveryEntry(t *testing.T) {
	l := List{ID: "pl-1", Family: target.IPv4, MaxEntries: 4, Version: 7, Entries: []Entry{
		{CIDR: "192.0.2.1/32", Description: "ipsync: managed"},
		{CIDR: "198.51.100.0/24", Description: "office"},
		{CIDR: "192.0.2.7/32"},
	}}
	f, err := Fence(l, "ipsync:")
	if err != nil {
		t.Fatal(err)
	}
	if f.Owned().String() != "[192.0.2.1/32]" || fmt.Sprint(f.HeldByOthers()) != "[192.0.2.7/32 198.51.100.0/24]" || f.Used() != 3 || f.Families() != target.IPv4 {
		t.Fatalf("owned %s, others %s, used %d, families %v", f.Owned(), f.HeldByOthers(), f.Used(), f.Families())
	}
	c, err := f.Rewrite(ipset.MustParse("192.0.2.1/32", "192.0.2.3/32"), f.Capacity())
	if err != nil || c.Version != "7" || c.Size != 4 {
		t.Fatalf("fits: %+v %v", c, err)
	}
	_, err = f.Rewrite(ipset.MustParse("192.0.2.1/32", "192.0.2.3/32", "192.0.2.5/32"), f.Capacity())
	var se *target.SizeError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "the prefix list pl-1 would hold 5 entries; the limit is 4: raise the list's MaxEntries to at least 5") {
		t.Fatalf("over MaxEntries: %v", err)
	}
	if !strings.Contains(f.Describe(), "1 entry managed") || !strings.Contains(f.Describe(), "carries IPv4; version 7") {
		t.Fatal(f.Describe())
	}
}
