// Package snsalerts publishes ipsync's alerts (internal/notify decides
// them) to an SNS topic: notify's I/O, apart so that what decides an alert
// links no AWS service.
package snsalerts

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/notify"
)

// publishAPI is what publishing needs of the SNS client.
type publishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS publishes alerts to one topic.
type SNS struct {
	api   publishAPI
	topic string
}

// New returns a publisher to topicArn.
func New(api publishAPI, topicArn string) *SNS { return &SNS{api: api, topic: topicArn} }

// Publish sends one alert, with the message attribute event.
func (s *SNS) Publish(ctx context.Context, a notify.Alert) error {
	_, err := s.api.Publish(ctx, &sns.PublishInput{
		TopicArn: &s.topic,
		Subject:  aws.String(a.Subject),
		Message:  aws.String(a.Body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"event": {DataType: aws.String("String"), StringValue: aws.String(string(a.Event))},
		},
	})
	if err != nil {
		return fmt.Errorf("publish %s alert for %s to %s: %w", a.Event, a.Key, s.topic, err)
	}
	return nil
}
