package iamio

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
)

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err  error
		hint string // "" for a transient failure: no hint to give
	}{
		{&types.NoSuchEntityException{}, "does not exist"},
		{&types.MalformedPolicyDocumentException{}, "refused the document"},
		{&types.LimitExceededException{}, "10,240 characters"},
		{&types.ServiceFailureException{}, ""},
		{&smithy.GenericAPIError{Code: "Throttling"}, ""},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, "iam:PutRolePolicy"},
		{errors.New("connection reset by peer"), ""},
	} {
		t.Run(fmt.Sprintf("%T", tt.err), func(t *testing.T) {
			err := classify("write", "r/p", fmt.Errorf("operation error IAM: PutRolePolicy: %w", tt.err))
			var te *target.Error
			if !errors.As(err, &te) || !strings.Contains(te.Hint, tt.hint) || (tt.hint == "") != (te.Hint == "") || !errors.Is(err, tt.err) {
				t.Fatalf("classify(%v) = %+v", tt.err, te)
			}
		})
	}
	for in, ok := range map[string]bool{"role/policy": true, "role": false, "/p": false, "r/": false, "r/p/q": false} {
		if _, _, err := iamrolepolicy.Split(in); (err == nil) != ok {
			t.Errorf("Split(%q): %v", in, err)
		}
	}
}
