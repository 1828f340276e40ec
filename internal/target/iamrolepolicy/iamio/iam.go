// Package iamio reads and writes an inline policy of an IAM role (the
// iam-role-policy kind), and says how much of the role's shared limit its
// other inline policies leave.
package iamio

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/iamrolepolicy"
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

// Read returns the inline policy's owned statement.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	role, name, err := iamrolepolicy.Split(ref.Resource)
	if err != nil {
		return nil, err
	}
	doc, err := a.get(ctx, ref.Resource, role, name)
	if err != nil {
		return nil, err
	}
	return iamrolepolicy.Fence(doc, ref.Sid)
}

// get reads a policy document, decoded (IAM sends it URL-encoded).

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

// Write replaces the inline policy document with the change's.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	role, name, err := iamrolepolicy.Split(ref.Resource)
	if err != nil {
		return err
	}
	text := string(c.Document)
	if _, err := a.api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: &name, PolicyDocument: &text}); err != nil {
		return classify("write", ref.Resource, err)
	}
	return nil
}

// Room is what the role's limit leaves this policy: its other inline
// policies share the role's 10,240 characters with it.
func (a *Adapter) Room(ctx context.Context, ref target.Ref) (target.Capacity, error) {
	others, err := a.othersSize(ctx, ref.Resource)
	if err != nil {
		return target.Capacity{}, err
	}
	c := iamrolepolicy.Kind{}.Capacity()
	c.Name = fmt.Sprintf("%s (%d; the role's other inline policies use %d)", c.Name, c.Max, others)
	c.Max -= others
	return c, nil
}

// othersSize is the size, as IAM counts it, of the role's other inline
// policies.
func (a *Adapter) othersSize(ctx context.Context, resource string) (int, error) {
	role, name, err := iamrolepolicy.Split(resource)
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
			total += iamrolepolicy.Limit.Size(doc)
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
