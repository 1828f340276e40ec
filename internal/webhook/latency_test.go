package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
)

// BenchmarkWebhookLatency: signed request in → 202 out, with the secret in
// Secrets Manager and the FIFO queue on moto_server, over 1,000 requests
// sent one after another from a client on loopback; reports p50 and p99.
// Interleaved with them, in the same run, a bare SendMessage of the same
// shape to a queue alike with the same SQS client: webhook/bare is what
// the webhook adds to the one call it cannot avoid (moto's share cancels).
func BenchmarkWebhookLatency(b *testing.B) {
	moto := testenv.SharedMoto(b)
	cfg := moto.AWSConfig(b)
	ctx := context.Background()
	secretName := fmt.Sprintf("bench-webhook-%d", time.Now().UnixNano())
	if _, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &secretName, SecretString: aws.String("bench-secret")}); err != nil {
		b.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	// Two queues alike, one for each: moto's FIFO SendMessage slows as a
	// queue fills, so each side must meet a queue as full as the other's.
	var urls [2]string
	for i := range urls {
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("bench-%d-%d.fifo", i, time.Now().UnixNano())), Attributes: map[string]string{"FifoQueue": "true"}})
		if err != nil {
			b.Fatal(err)
		}
		urls[i] = aws.ToString(out.QueueUrl)
	}
	h := &webhook.Handler{Secrets: webhook.NewSecretCache(secretsmanager.NewFromConfig(cfg), secretName), Queue: webhook.NewSQSQueue(q, urls[0])}
	srv := httptest.NewServer(h)
	defer srv.Close()
	const requests = 1000
	var hook, bare []time.Duration
	for b.Loop() {
		hook, bare = make([]time.Duration, requests), make([]time.Duration, requests)
		for i := range requests {
			id := fmt.Sprintf("%024x", time.Now().UnixNano()+int64(i))
			// Alternate which goes first, so neither always meets a warmer moto.
			steps := []func() error{
				func() (err error) { hook[i], err = signedRequest(srv.URL, id); return err },
				func() (err error) { bare[i], err = bareSend(ctx, q, urls[1], id); return err },
			}
			if i%2 == 1 {
				steps[0], steps[1] = steps[1], steps[0]
			}
			for _, step := range steps {
				if err := step(); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	p := func(lat []time.Duration, q int) time.Duration {
		s := slices.Clone(lat)
		slices.Sort(s)
		return s[len(s)*q/100]
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(p(hook, 50)), "p50-ms")
	b.ReportMetric(ms(p(hook, 99)), "p99-ms")
	b.ReportMetric(ms(p(bare, 50)), "bare-p50-ms")
	b.ReportMetric(ms(p(bare, 99)), "bare-p99-ms")
	b.ReportMetric(float64(p(hook, 50))/float64(p(bare, 50)), "ratio-p50")
	b.ReportMetric(float64(p(hook, 99))/float64(p(bare, 99)), "ratio-p99")
}

// signedRequest posts one signed alert with alert id id and times it to
// the 202.
func signedRequest(url, id string) (time.Duration, error) {
	body := []byte(`{"id":"` + id + `","status":"OPEN","eventTypeName":"ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED"}`)
	m := hmac.New(sha1.New, []byte("bench-secret"))
	m.Write(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("X-MMS-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusAccepted {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return took, nil
}

// bareSend is the SendMessage the webhook makes for that alert, made
// directly: the same group, a deduplication id of the same length, a body
// of the same size.
func bareSend(ctx context.Context, q *sqs.Client, url, id string) (time.Duration, error) {
	body := `{"alertId":"` + id + `","eventTypeName":"ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED","status":"OPEN","receivedAt":"2026-12-03T00:00:00.000000000Z"}`
	start := time.Now()
	_, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageGroupId: aws.String(webhook.MessageGroup), MessageDeduplicationId: aws.String("bare-" + id + "-OPEN")})
	return time.Since(start), err
}
