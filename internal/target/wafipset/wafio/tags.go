package wafio

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

type tagAPI interface {
	ListTagsForResource(ctx context.Context, in *wafv2.ListTagsForResourceInput, opts ...func(*wafv2.Options)) (*wafv2.ListTagsForResourceOutput, error)
}

// Tags are the set's tags (for ipsync doctor's infrastructure-as-code
// warning).
func (a *Adapter) Tags(ctx context.Context, ref target.Ref) (map[string]string, error) {
	api, ok := a.api(ref.Resource).(tagAPI)
	if !ok {
		return nil, errors.New("this client cannot list tags")
	}
	out, err := api.ListTagsForResource(ctx, &wafv2.ListTagsForResourceInput{ResourceARN: aws.String(ref.Resource)})
	if err != nil {
		return nil, classify("read tags of", ref.Resource, err)
	}
	tags := map[string]string{}
	if out.TagInfoForResource != nil {
		for _, t := range out.TagInfoForResource.TagList {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}
