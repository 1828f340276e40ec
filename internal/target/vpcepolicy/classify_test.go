package vpcepolicy

import (
	"errors"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestClassify(t *testing.T) {
	for code, retryable := range map[string]bool{
		"InvalidVpcEndpointId.NotFound": false, "InvalidPolicyDocument": false, "UnauthorizedOperation": false,
		"RequestLimitExceeded": true, "InternalError": true, "ServiceUnavailable": true,
	} {
		var te *target.Error
		if err := classify("write", "vpce-1", &smithy.GenericAPIError{Code: code}); !errors.As(err, &te) || te.Retryable != retryable {
			t.Errorf("%s: %+v", code, te)
		}
	}
	var te *target.Error
	if err := classify("read", "vpce-1", errors.New("dial tcp: refused")); !errors.As(err, &te) || !te.Retryable {
		t.Errorf("transport failure not retryable: %+v", te)
	}
}
