package atlas

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed adds a real fixture (vendored in testdata/) to a fuzz corpus; the
// findings of `make fuzz` are checked in under testdata/fuzz.
func seed(f *testing.F, rel string) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "atlas", "fixtures", rel))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzParseControlPlane(f *testing.F) {
	seed(f, "control-plane-ip-addresses.real.json")
	f.Add([]byte(`{"inbound":{},"outbound":{"aws":{"us-east-1":["1.2.3.4","2001:db8::/32"]}},"gateways":[{"name":"g","ips":{"inbound":{"aws":{"x":["5.6.7.8"]}}}}]}`))
	f.Add([]byte(`{"outbound":{"aws":{"r":["1.2.3.4/33"]}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := parseControlPlane(b)
		if err != nil {
			return
		}
		// Whatever is accepted holds only valid, canonical prefixes.
		for _, dir := range []ProviderIPs{cp.Inbound, cp.Outbound} {
			for _, regions := range dir {
				for _, set := range regions {
					checkCanonical(t, set.Prefixes())
				}
			}
		}
	})
}

func FuzzParseGroupIPs(f *testing.F) {
	seed(f, "group-ip-addresses.shape.json")
	f.Add([]byte(`{"groupId":"g","services":{"clusters":[{"clusterName":"c","inbound":["1.1.1.1"],"outbound":[],"futureInbound":null}]}}`))
	f.Add([]byte(`{"services":{"clusters":[{"clusterName":""}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseGroupIPs("111111111111111111111111", b)
		if err != nil {
			return
		}
		if p.GroupID != "111111111111111111111111" {
			t.Fatalf("accepted an answer for %q", p.GroupID)
		}
		for _, c := range p.Clusters {
			if c.Name == "" {
				t.Fatal("accepted a cluster without a name")
			}
			for _, s := range [][]netip.Prefix{c.Inbound.Prefixes(), c.Outbound.Prefixes(), c.FutureInbound.Prefixes(), c.FutureOutbound.Prefixes()} {
				checkCanonical(t, s)
			}
		}
	})
}

func checkCanonical(t *testing.T, ps []netip.Prefix) {
	t.Helper()
	for _, p := range ps {
		if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			t.Fatalf("accepted a non-canonical prefix %v", p)
		}
	}
}

func FuzzParseEncryptionAtRest(f *testing.F) {
	f.Add([]byte(`{"awsKms":{"enabled":true,"valid":false,"region":"US_EAST_1"}}`))
	f.Add([]byte(`{"awsKms":{"enabled":true}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEncryptionAtRest(b)
		if err != nil {
			return
		}
		// "invalid" only when the answer says so in so many words.
		if !e.Valid && !bytes.Contains(b, []byte("false")) {
			t.Fatalf("read %q as invalid", b)
		}
	})
}

// Each provider's valid counts, the enabled ones over the rest: a GCP or
// Azure key is verified as an AWS one is.
func TestEncryptionAtRestProviders(t *testing.T) {
	for _, c := range []struct {
		doc       string
		valid     bool
		providers string
	}{
		{`{"awsKms":{"enabled":true,"valid":true}}`, true, "awsKms"},
		{`{"googleCloudKms":{"enabled":true,"valid":false}}`, false, "googleCloudKms"},
		{`{"awsKms":{"enabled":false,"valid":false},"azureKeyVault":{"enabled":true,"valid":true}}`, true, "azureKeyVault"},
		{`{"awsKms":{"valid":true},"googleCloudKms":{"valid":false}}`, false, "awsKms,googleCloudKms"},
	} {
		e, err := parseEncryptionAtRest([]byte(c.doc))
		if err != nil || e.Valid != c.valid || strings.Join(e.Providers, ",") != c.providers {
			t.Errorf("%s: %+v %v", c.doc, e, err)
		}
	}
	if _, err := parseEncryptionAtRest([]byte(`{"googleCloudKms":{"enabled":true}}`)); err == nil {
		t.Error("an answer without valid is no answer")
	}
}
