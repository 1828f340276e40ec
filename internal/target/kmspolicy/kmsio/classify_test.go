package kmsio

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// The errors are built here, not drawn from moto: moto answers a KMS access
// denial as XML, which the SDK cannot decode for a JSON service ("deserialization
// failed", only the 403 kept), so the AccessDenied hint cannot be reached on moto
// (TestDeployedRoles in functions/ sees exactly that).
func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		hint string // "" for a transient failure: no hint to give
	}{
		{&types.NotFoundException{}, "does not exist"},
		{&types.MalformedPolicyDocumentException{}, "refused the document"},
		{&types.LimitExceededException{}, "limit"},
		{&types.KMSInvalidStateException{}, "disabled or pending deletion"},
		{&types.DependencyTimeoutException{}, ""},
		{&types.KMSInternalException{}, ""},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, ""},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, "kms:PutKeyPolicy"},
		{errors.New("connection reset by peer"), ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.err), func(t *testing.T) {
			err := classify("write", "k", fmt.Errorf("operation error KMS: PutKeyPolicy: %w", tt.err))
			var te *target.Error
			if !errors.As(err, &te) || !strings.Contains(te.Hint, tt.hint) || (tt.hint == "") != (te.Hint == "") {
				t.Fatalf("classify(%v) = %+v", tt.err, te)
			}
			if !errors.Is(err, tt.err) {
				t.Fatal("the SDK error is not wrapped")
			}
		})
	}
}
