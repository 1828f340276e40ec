package atlas_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
)

func TestAccessListRoundTrip(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	ctx := context.Background()
	sim.SetAccessList(projectA, atlastest.AccessEntry{IPAddress: "203.0.113.9", Comment: "office"}, atlastest.AccessEntry{AWSSecurityGroup: "sg-0123", Comment: "peering"})
	if err := c.AddAccessEntry(ctx, projectA, atlas.AccessEntry{CIDRBlock: "198.51.100.0/24", Comment: "atlas-ip-sync"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddAccessEntry(ctx, projectA, atlas.AccessEntry{CIDRBlock: "192.0.2.7/32", Comment: "atlas-ip-sync"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.AccessList(ctx, projectA)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, e := range got {
		values = append(values, e.Value()+"="+e.Comment)
	}
	if s := strings.Join(values, " "); s != "192.0.2.7/32=atlas-ip-sync 198.51.100.0/24=atlas-ip-sync 203.0.113.9/32=office sg-0123=peering" {
		t.Fatalf("list %s", s)
	}
	if err := c.DeleteAccessEntry(ctx, projectA, "198.51.100.0/24"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAccessEntry(ctx, projectA, "198.51.100.0/24"); err != nil {
		t.Fatalf("deleting what is gone: %v", err)
	}
	if err := c.DeleteAccessEntry(ctx, "7aec7afbf7d068e35a39809d", "1.1.1.1"); err == nil {
		t.Fatal("deleting in an unknown project succeeded")
	}
	if n := len(sim.AccessListOf(projectA)); n != 3 {
		t.Fatalf("%d entries left, want 3", n)
	}
}

// 1,201 entries come back whole, across pages of 500.
func TestAccessListPages(t *testing.T) {
	sim := startSim(t)
	var entries []atlastest.AccessEntry
	for i := range 1201 {
		entries = append(entries, atlastest.AccessEntry{CIDRBlock: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)})
	}
	sim.SetAccessList(projectA, entries...)
	got, err := newClient(t, sim, nil).AccessList(context.Background(), projectA)
	if err != nil || len(got) != 1201 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	if n := sim.Calls(atlastest.AccessList); n != 3 {
		t.Fatalf("%d pages read, want 3", n)
	}
}

// The simulator refuses a POST while another is in flight, as Atlas does.
func TestConcurrentAccessListPostsAreRefused(t *testing.T) {
	sim := startSim(t)
	sim.SetLatency(200 * time.Millisecond)
	c := newClient(t, sim, nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.AddAccessEntry(context.Background(), projectA, atlas.AccessEntry{CIDRBlock: fmt.Sprintf("192.0.2.%d/32", i)})
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !strings.Contains(fmt.Sprint(errs[0], errs[1]), "CONCURRENT_ACCESS_LIST_UPDATE") {
		t.Fatalf("two concurrent POSTs: %v / %v", errs[0], errs[1])
	}
}

// An empty list reads as no entries; an answer whose results are null is
// refused with an error that says so (Atlas answers [], never null).
func TestEmptyAndNullAccessLists(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	got, err := c.AccessList(context.Background(), projectA)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty list: %v, %v", got, err)
	}
	sim.InjectFault(atlastest.AccessList, atlastest.Fault{Body: `{"results":null,"totalCount":0,"links":[]}`}, 1)
	_, err = c.AccessList(context.Background(), projectA)
	if err == nil || !strings.Contains(err.Error(), `"results" is null or missing`) || !strings.Contains(err.Error(), projectA) {
		t.Fatalf("null results: %v", err)
	}
}
