package snapshot_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/ipset"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

func TestTargetSetIsStable(t *testing.T) {
	a := snapshot.NewTargetSet("k", "kms-key-policy", "r", ipset.MustParse("192.0.2.1/32", "192.0.2.9/32"), time.Unix(0, 0))
	b := snapshot.NewTargetSet("k", "kms-key-policy", "r", ipset.MustParse("192.0.2.9", "192.0.2.1"), time.Unix(60, 0))
	if a.Hash != b.Hash || a.Hash == snapshot.SetHash(ipset.MustParse("192.0.2.1/32")) {
		t.Fatalf("hash %s vs %s", a.Hash, b.Hash)
	}
	empty, err := snapshot.NewTargetSet("k", "t", "r", ipset.Set{}, time.Unix(0, 0)).Marshal()
	var back map[string]any
	if err != nil || json.Unmarshal(empty, &back) != nil || fmt.Sprint(back["cidrs"]) != "[]" {
		t.Fatalf("an empty set is an empty list, not null: %s %v", empty, err)
	}
}
