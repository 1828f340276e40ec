package vpceio

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestClassify(t *testing.T) {
	for code, hint := range map[string]string{
		"InvalidVpcEndpointId.NotFound": "does not exist", "InvalidPolicyDocument": "refused the policy document",
		"UnauthorizedOperation": "ec2:ModifyVpcEndpoint",
		// Transient: the SDK retries them; there is nothing to fix.
		"RequestLimitExceeded": "", "InternalError": "", "ServiceUnavailable": "",
	} {
		var te *target.Error
		err := classify("write", "vpce-1", &smithy.GenericAPIError{Code: code})
		if !errors.As(err, &te) || !strings.Contains(te.Hint, hint) || (hint == "") != (te.Hint == "") {
			t.Errorf("%s: %+v", code, te)
		}
	}
	var te *target.Error
	if err := classify("read", "vpce-1", errors.New("dial tcp: refused")); !errors.As(err, &te) || te.Hint != "" || !errors.Is(err, te.Err) {
		t.Errorf("transport failure: %+v", te)
	}
}
