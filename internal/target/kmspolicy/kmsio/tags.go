package kmsio

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/target"
)

type tagAPI interface {
	ListResourceTags(ctx context.Context, in *kms.ListResourceTagsInput, opts ...func(*kms.Options)) (*kms.ListResourceTagsOutput, error)
}

// Tags are the key's tags (for ipsync doctor's infrastructure-as-code
// warning).
func (a *Adapter) Tags(ctx context.Context, ref target.Ref) (map[string]string, error) {
	api, ok := a.api.(tagAPI)
	if !ok {
		return nil, errors.New("this client cannot list tags")
	}
	tags := map[string]string{}
	for p := kms.NewListResourceTagsPaginator(api, &kms.ListResourceTagsInput{KeyId: aws.String(ref.Resource)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("read tags of", ref.Resource, err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.TagKey)] = aws.ToString(t.TagValue)
		}
	}
	return tags, nil
}
