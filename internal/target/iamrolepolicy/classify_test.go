package iamrolepolicy

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err       error
		retryable bool
		hint      string
	}{
		{&types.NoSuchEntityException{}, false, "does not exist"},
		{&types.MalformedPolicyDocumentException{}, false, "refused the document"},
		{&types.LimitExceededException{}, false, "10,240 characters"},
		{&types.ServiceFailureException{}, true, ""},
		{&smithy.GenericAPIError{Code: "Throttling"}, true, ""},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false, "iam:PutRolePolicy"},
		{errors.New("connection reset by peer"), true, ""},
	} {
		t.Run(fmt.Sprintf("%T", tt.err), func(t *testing.T) {
			err := classify("write", "r/p", fmt.Errorf("operation error IAM: PutRolePolicy: %w", tt.err))
			var te *target.Error
			if !errors.As(err, &te) || te.Retryable != tt.retryable || !strings.Contains(te.Hint, tt.hint) || !errors.Is(err, tt.err) {
				t.Fatalf("classify(%v) = %+v", tt.err, te)
			}
		})
	}
	for in, ok := range map[string]bool{"role/policy": true, "role": false, "/p": false, "r/": false, "r/p/q": false} {
		if _, _, err := Split(in); (err == nil) != ok {
			t.Errorf("Split(%q): %v", in, err)
		}
	}
}
