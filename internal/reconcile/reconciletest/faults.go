package reconciletest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

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
	cfg := testenv.AWSConfigAt(t, proxy.URL)
	// The SDK's retries wait at most 10 ms here, not its jittered seconds:
	// the rows test that a retry happens and that the budget ends, not
	// how long AWS's backoff waits.
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(retry.NewStandard(), 10*time.Millisecond) }
	return proxy, cfg
}

func FaultStack(t *testing.T, k Kind, extraConfig string) (*Stack, *testenv.FaultProxy) {
	t.Helper()
	s := NewStack(t, k, extraConfig)
	proxy, awsCfg := StartProxy(t)
	s.AWSCfg = awsCfg
	s.Calls = testenv.CountCalls(&s.AWSCfg)
	return s, proxy
}
