// Package kmsio reads and writes KMS key policies (the kms-key-policy
// kind). The policy name is always "default", and the lockout safety check
// is never bypassed.
package kmsio

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/kmspolicy"
)

// keyPolicyAPI is what the adapter needs of the KMS client.
type keyPolicyAPI interface {
	GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, opts ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
	PutKeyPolicy(ctx context.Context, in *kms.PutKeyPolicyInput, opts ...func(*kms.Options)) (*kms.PutKeyPolicyOutput, error)
}

const policyName = "default"

// Adapter is the kms-key-policy target.
type Adapter struct{ api keyPolicyAPI }

// New returns an adapter over a KMS client.
func New(api keyPolicyAPI) *Adapter { return &Adapter{api: api} }

// Read returns the key policy's owned statement.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	out, err := a.api.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &ref.Resource, PolicyName: aws.String(policyName)})
	if err != nil {
		return nil, classify("read", ref.Resource, err)
	}
	return kmspolicy.Fence([]byte(aws.ToString(out.Policy)), ref.Sid)
}

// Write replaces the key's policy document with the change's.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	keyID := ref.Resource
	_, err := a.api.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{
		KeyId:      &keyID,
		PolicyName: aws.String(policyName),
		Policy:     aws.String(string(c.Document)),
		// BypassPolicyLockoutSafetyCheck stays false: KMS must refuse a
		// policy that would lock the account out of its own key.
		BypassPolicyLockoutSafetyCheck: false,
	})
	if err != nil {
		return classify("write", keyID, err)
	}
	return nil
}

func classify(op, keyID string, err error) error {
	e := &target.Error{Op: op, Kind: "KMS key policy", Resource: keyID, Err: err}
	var (
		notFound  *types.NotFoundException
		malformed *types.MalformedPolicyDocumentException
		limit     *types.LimitExceededException
		invalid   *types.KMSInvalidStateException
		api       smithy.APIError
	)
	switch {
	case errors.As(err, &notFound):
		e.Hint = "the key does not exist in this account and region; check the target's resource and AWS_REGION"
	case errors.As(err, &malformed):
		e.Hint = "KMS refused the document (it would lock the account out of the key, or names a principal that does not exist)"
	case errors.As(err, &limit):
		e.Hint = "a KMS limit was reached"
	case errors.As(err, &invalid):
		e.Hint = "the key is disabled or pending deletion: enable it (or cancel the deletion) first"
	case errors.As(err, &api) && api.ErrorCode() == "AccessDeniedException":
		e.Hint = "the caller lacks kms:GetKeyPolicy or kms:PutKeyPolicy on this key (check the key policy and the role)"
	}
	return e
}
