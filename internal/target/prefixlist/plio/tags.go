package plio

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

// Tags are the list's tags (for ipsync doctor's infrastructure-as-code
// warning).
func (a *Adapter) Tags(ctx context.Context, ref target.Ref) (map[string]string, error) {
	out, err := a.api.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{PrefixListIds: []string{ref.Resource}})
	if err != nil {
		return nil, classify("read tags of", ref.Resource, err)
	}
	tags := map[string]string{}
	for _, l := range out.PrefixLists {
		for _, t := range l.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}
