package lambdafn

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/webhook"
)

type staticSecret []byte

func (s staticSecret) Secrets(context.Context, bool) ([][]byte, error) { return [][]byte{s}, nil }

type countQueue struct{ n int }

func (q *countQueue) Enqueue(context.Context, webhook.Trigger) error { q.n++; return nil }

func TestWebhookEventsThroughTheHandler(t *testing.T) {
	secret := testenv.ReadEvent(t, "webhook-secret.txt")
	for name, want := range map[string]int{
		"webhook-url-request.json": 202, "webhook-url-request-base64.json": 202,
		"webhook-bad-signature.json": 401, "webhook-missing-signature.json": 401,
		"webhook-wrong-method.json": 405, "webhook-not-json.json": 400,
	} {
		var req events.LambdaFunctionURLRequest
		if err := json.Unmarshal(testenv.ReadEvent(t, name), &req); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		q := &countQueue{}
		h := &webhook.Handler{Secrets: staticSecret(secret), Queue: q}
		resp, err := h.HandleFunctionURL(context.Background(), req)
		if err != nil || resp.StatusCode != want {
			t.Errorf("%s: %d %v, want %d", name, resp.StatusCode, err, want)
		}
		if (want == 202) != (q.n == 1) {
			t.Errorf("%s: enqueued %d", name, q.n)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	if _, err := LoadConfig(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "IPSYNC_CONFIG is empty") {
		t.Fatalf("empty: %v", err)
	}
	if _, err := LoadConfig(func(string) string { return `{"bogus":1}` }); err == nil || !strings.Contains(err.Error(), "IPSYNC_CONFIG") {
		t.Fatalf("bad: %v", err)
	}
	if _, err := LoadConfig(func(string) string { return "atlas:\n  projects: []\n" }); err == nil || !strings.Contains(err.Error(), "must be JSON") || !strings.Contains(err.Error(), "ipsync config") {
		t.Fatalf("YAML: %v", err)
	}
	if c, err := LoadConfig(func(string) string { return `{"guards":{"removalGrace":"1h"}}` }); err != nil || c == nil {
		t.Fatalf("good: %v", err)
	}
}
