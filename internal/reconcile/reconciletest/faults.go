package reconciletest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// StartProxy puts a fault proxy in front of the shared moto_server and
// returns it with an AWS config that talks through it.
func StartProxy(t *testing.T) (*testenv.FaultProxy, aws.Config) {
	t.Helper()
	proxy, err := testenv.StartFaultProxy(testenv.SharedMoto(t).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	return proxy, testenv.AWSConfigAt(t, proxy.URL)
}

func FaultStack(t *testing.T, k Kind, extraConfig string) (*Stack, *testenv.FaultProxy) {
	t.Helper()
	s := NewStack(t, k, extraConfig)
	proxy, awsCfg := StartProxy(t)
	s.AWSCfg = awsCfg
	s.Calls = testenv.CountCalls(&s.AWSCfg)
	return s, proxy
}
