// Package iamrolepolicy reads and writes an inline policy of an IAM role
// (target type iam-role-policy): the role Atlas assumes to use the key,
// where Atlas's own documentation puts the IP conditions. The resource is
// "ROLE_NAME/POLICY_NAME". IAM limits all inline policies of a role to
// 10,240 characters together, white space not counted; OthersSize tells the
// plan how much of that the role's other inline policies use.
package iamrolepolicy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// rolePolicyAPI is what the adapter needs of the IAM client.
type rolePolicyAPI interface {
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, opts ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
}

// Adapter is the iam-role-policy target.
type Adapter struct{ api rolePolicyAPI }

// New returns an adapter over an IAM client.
func New(api rolePolicyAPI) *Adapter { return &Adapter{api: api} }

// Split reads "ROLE_NAME/POLICY_NAME". Neither a role name nor a policy
// name may hold a '/'.
func Split(resource string) (role, name string, err error) {
	role, name, ok := strings.Cut(resource, "/")
	if !ok || role == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("resource %q: want ROLE_NAME/POLICY_NAME", resource)
	}
	return role, name, nil
}

// Read returns the inline policy document, decoded (IAM sends it URL-encoded).
func (a *Adapter) Read(ctx context.Context, resource string) ([]byte, error) {
	role, name, err := Split(resource)
	if err != nil {
		return nil, err
	}
	return a.get(ctx, resource, role, name)
}

func (a *Adapter) get(ctx context.Context, resource, role, name string) ([]byte, error) {
	out, err := a.api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &role, PolicyName: &name})
	if err != nil {
		return nil, classify("read", resource, err)
	}
	doc, err := url.PathUnescape(derefString(out.PolicyDocument))
	if err != nil {
		return nil, &target.Error{Op: "read", Kind: kind, Resource: resource, Err: fmt.Errorf("decode the policy IAM sent: %w", err)}
	}
	return []byte(doc), nil
}

// Write replaces the inline policy document.
func (a *Adapter) Write(ctx context.Context, resource string, doc []byte) error {
	role, name, err := Split(resource)
	if err != nil {
		return err
	}
	text := string(doc)
	if _, err := a.api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &text}); err != nil {
		return classify("write", resource, err)
	}
	return nil
}

// OthersSize is the size, as IAM counts it, of the role's other inline
// policies: they share the role's 10,240 characters with this one.
func (a *Adapter) OthersSize(ctx context.Context, resource string) (int, error) {
	role, name, err := Split(resource)
	if err != nil {
		return 0, err
	}
	total := 0
	p := iam.NewListRolePoliciesPaginator(a.api, &iam.ListRolePoliciesInput{RoleName: &role})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, classify("list inline policies of", resource, err)
		}
		for _, other := range page.PolicyNames {
			if other == name {
				continue
			}
			doc, err := a.get(ctx, role+"/"+other, role, other)
			if err != nil {
				return 0, err
			}
			total += policy.IAMRolePolicies.Size(doc)
		}
	}
	return total, nil
}

const kind = "IAM role inline policy"

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func classify(op, resource string, err error) error {
	e := &target.Error{Op: op, Kind: kind, Resource: resource, Err: err}
	var (
		noEntity  *types.NoSuchEntityException
		malformed *types.MalformedPolicyDocumentException
		limit     *types.LimitExceededException
		api       smithy.APIError
	)
	switch {
	case errors.As(err, &noEntity):
		e.Hint = "the role or its inline policy does not exist: create the inline policy with the statement ipsync owns (ipsync doctor prints one)"
	case errors.As(err, &malformed):
		e.Hint = "IAM refused the document"
	case errors.As(err, &limit):
		e.Hint = "IAM's limit was reached: all inline policies of a role share 10,240 characters"
	case errors.As(err, &api) && api.ErrorCode() == "AccessDenied":
		e.Hint = "the caller lacks iam:GetRolePolicy, iam:PutRolePolicy or iam:ListRolePolicies on this role"
	}
	return e
}
