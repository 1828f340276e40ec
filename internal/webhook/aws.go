package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/secret"
)

// sendMessageAPI is what enqueueing needs of the SQS client.
type sendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSQueue enqueues triggers on a FIFO queue: one message group, so runs
// never overlap, and Atlas's retries of one alert deduplicated.
type SQSQueue struct {
	api sendMessageAPI
	url string
	// Timeout bounds one enqueue (0: EnqueueTimeout).
	Timeout time.Duration
}

// NewSQSQueue returns a queue at url.
func NewSQSQueue(api sendMessageAPI, url string) *SQSQueue { return &SQSQueue{api: api, url: url} }

// MessageGroup is the one FIFO message group of every trigger.
const MessageGroup = "ipsync"

// EnqueueTimeout keeps the webhook's answer well under Atlas's patience: a
// hung queue gives 503 (Atlas retries), not a dropped connection.
const EnqueueTimeout = 5 * time.Second

// Enqueue sends one trigger.
func (q *SQSQueue) Enqueue(ctx context.Context, t Trigger) error {
	body, _ := json.Marshal(t)
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = EnqueueTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := q.api.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               &q.url,
		MessageBody:            aws.String(string(body)),
		MessageGroupId:         aws.String(MessageGroup),
		MessageDeduplicationId: aws.String(t.DedupID),
	})
	if err != nil {
		return fmt.Errorf("enqueue trigger on %s: %w", q.url, err)
	}
	return nil
}

// getSecretValueAPI is what reading the secret needs of Secrets Manager.
type getSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretCache reads the webhook secret's AWSCURRENT and AWSPREVIOUS values
// on first use and keeps them for TTL; a forced re-read is allowed at most
// once per MinRefresh, so forged requests cannot hammer Secrets Manager.
type SecretCache struct {
	api        getSecretValueAPI
	id         string
	TTL        time.Duration
	MinRefresh time.Duration

	mu      sync.Mutex
	values  [][]byte
	fetched time.Time
}

// NewSecretCache caches the secret id (TTL 5 minutes, forced re-reads at
// most every 30 seconds).
func NewSecretCache(api getSecretValueAPI, id string) *SecretCache {
	return &SecretCache{api: api, id: id, TTL: 5 * time.Minute, MinRefresh: 30 * time.Second}
}

// Secrets returns the current and, during a rotation, previous secret.
func (c *SecretCache) Secrets(ctx context.Context, fresh bool) ([][]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	age := time.Since(c.fetched)
	if c.values != nil && age < c.TTL && (!fresh || age < c.MinRefresh) {
		return c.values, nil
	}
	cur, err := secret.Read(ctx, c.api, c.id)
	if err != nil {
		return nil, err
	}
	values := [][]byte{cur}
	prev, err := secret.ReadStage(ctx, c.api, c.id, "AWSPREVIOUS")
	switch {
	case err == nil:
		values = append(values, prev)
	case errors.Is(err, secret.ErrNotFound):
		// No rotation has happened: only the current secret is valid.
	default:
		return nil, err
	}
	c.values, c.fetched = values, time.Now()
	return values, nil
}
