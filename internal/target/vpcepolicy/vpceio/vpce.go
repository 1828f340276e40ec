// Package vpceio reads and writes VPC endpoint policies (the
// vpc-endpoint-policy kind).
package vpceio

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target/vpcepolicy"
)

// endpointAPI is what the adapter needs of the EC2 client.
type endpointAPI interface {
	DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, opts ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	ModifyVpcEndpoint(ctx context.Context, in *ec2.ModifyVpcEndpointInput, opts ...func(*ec2.Options)) (*ec2.ModifyVpcEndpointOutput, error)
}

// Adapter is the vpc-endpoint-policy target.
type Adapter struct{ api endpointAPI }

// New returns an adapter over an EC2 client.
func New(api endpointAPI) *Adapter { return &Adapter{api: api} }

// Read returns the endpoint policy's owned statement.
func (a *Adapter) Read(ctx context.Context, ref target.Ref) (target.Fence, error) {
	id := ref.Resource
	out, err := a.api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if err != nil {
		return nil, classify("read", id, err)
	}
	if len(out.VpcEndpoints) != 1 {
		return nil, &target.Error{Op: "read", Kind: "VPC endpoint policy", Resource: id, Err: fmt.Errorf("%d endpoints answered", len(out.VpcEndpoints)), Hint: "check the endpoint id and AWS_REGION"}
	}
	return vpcepolicy.Fence([]byte(aws.ToString(out.VpcEndpoints[0].PolicyDocument)), ref.Sid)
}

// Write replaces the endpoint's policy document.
func (a *Adapter) Write(ctx context.Context, ref target.Ref, c target.Change) error {
	id := ref.Resource
	out, err := a.api.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, PolicyDocument: aws.String(string(c.Document))})
	if err != nil {
		return classify("write", id, err)
	}
	if !aws.ToBool(out.Return) {
		return &target.Error{Op: "write", Kind: "VPC endpoint policy", Resource: id, Err: errors.New("ModifyVpcEndpoint returned false")}
	}
	return nil
}

func classify(op, id string, err error) error {
	e := &target.Error{Op: op, Kind: "VPC endpoint policy", Resource: id, Err: err}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return e // transport failure: no hint to give
	}
	switch api.ErrorCode() {
	case "InvalidVpcEndpointId.NotFound", "InvalidVpcEndpointId.Malformed":
		e.Hint = "the endpoint does not exist in this account and region; check the target's resource and AWS_REGION"
	case "InvalidPolicyDocument", "MalformedPolicyDocument":
		e.Hint = "EC2 refused the policy document"
	case "UnauthorizedOperation", "AccessDenied":
		e.Hint = "the caller lacks ec2:DescribeVpcEndpoints or ec2:ModifyVpcEndpoint"
	}
	return e
}
