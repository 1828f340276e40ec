package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
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
func BenchmarkWebhookLatency(b *testing.B) {
	moto := testenv.SharedMoto(b)
	cfg := moto.AWSConfig(b)
	ctx := context.Background()
	secretName := fmt.Sprintf("bench-webhook-%d", time.Now().UnixNano())
	if _, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &secretName, SecretString: aws.String("bench-secret")}); err != nil {
		b.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("bench-%d.fifo", time.Now().UnixNano())), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		b.Fatal(err)
	}
	h := &webhook.Handler{Secrets: webhook.NewSecretCache(secretsmanager.NewFromConfig(cfg), secretName), Queue: webhook.NewSQSQueue(q, aws.ToString(out.QueueUrl))}
	srv := httptest.NewServer(h)
	defer srv.Close()
	const requests, clients = 1000, 1
	var p50, p99 time.Duration
	for b.Loop() {
		lat := make([]time.Duration, requests)
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < requests; i += clients {
					body := []byte(fmt.Sprintf(`{"id":"%024x","status":"OPEN","eventTypeName":"ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED"}`, time.Now().UnixNano()+int64(i)))
					m := hmac.New(sha1.New, []byte("bench-secret"))
					m.Write(body)
					req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(body))
					req.Header.Set("X-MMS-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
					start := time.Now()
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					lat[i] = time.Since(start)
					if resp.StatusCode != http.StatusAccepted {
						errs <- fmt.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		p50, p99 = lat[requests/2], lat[requests*99/100]
	}
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
