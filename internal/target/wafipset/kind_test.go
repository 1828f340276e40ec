package wafipset

import (
	"errors"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestLocate(t *testing.T) {
	for arn, want := range map[string]Location{
		"arn:aws:wafv2:us-east-1:111122223333:regional/ipset/atlas-webhook/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111": {"REGIONAL", "atlas-webhook", "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"},
		"arn:aws:wafv2:us-east-1:111122223333:global/ipset/edge/1":                                               {"CLOUDFRONT", "edge", "1"},
	} {
		if got, err := Locate(arn); err != nil || got != want {
			t.Errorf("%s: %+v %v", arn, got, err)
		}
	}
	if _, err := Locate("arn:aws:wafv2:us-east-1:111122223333:regional/webacl/a/1"); err == nil {
		t.Error("a web ACL's ARN is not an IP set's")
	}
}

func TestASetIsOwnedOnlyWhenItsDescriptionSaysSo(t *testing.T) {
	s := Set{ARN: "arn", Description: "atlas-ip-sync webhook", Family: target.IPv4, Addresses: []string{"192.0.2.1/32"}, LockToken: "t1"}
	f, err := Fence(s, "atlas-ip-sync")
	if err != nil || f.Owned().String() != "[192.0.2.1/32]" || f.Families() != target.IPv4 || f.Capacity().Max != 10000 {
		t.Fatalf("%v %v", f, err)
	}
	if c, err := f.Rewrite(f.Owned(), f.Capacity()); err != nil || c.Version != "t1" {
		t.Fatalf("the change carries the lock token: %+v %v", c, err)
	}
	s.Description = "team firewall"
	_, err = Fence(s, "atlas-ip-sync")
	var no *target.NotOwnedError
	if !errors.As(err, &no) || !strings.Contains(err.Error(), `"team firewall" does not start with "atlas-ip-sync"`) {
		t.Fatalf("a set of someone else: %v", err)
	}
}
