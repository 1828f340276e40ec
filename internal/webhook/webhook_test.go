package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
)

type fakeSecrets struct {
	values [][]byte
	calls  int
	err    error
}

func (f *fakeSecrets) Secrets(context.Context, bool) ([][]byte, error) {
	f.calls++
	return f.values, f.err
}

type fakeQueue struct {
	mu   sync.Mutex
	got  []Trigger
	fail error
}

func (q *fakeQueue) Enqueue(_ context.Context, t Trigger) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.got = append(q.got, t)
	return nil
}

const testSecret = "webhook-test-secret"

func sign(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "atlas", "fixtures", name))
	if err != nil {
		t.Fatal(err) // vendored: always there
	}
	return b
}

func TestHandle(t *testing.T) {
	alert := []byte(`{"id":"6561f0a2c3d4e5f6a7b8c9d0","eventTypeName":"ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED","groupId":"5aec7afbf7d068e35a39809b","status":"OPEN"}`)
	good := sign(testSecret, alert)
	deep := []byte(`{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)
	big := []byte(`{"id":"x","pad":"` + strings.Repeat("a", MaxBody) + `"}`)
	tests := []struct {
		name     string
		req      Request
		status   int
		enqueued int
	}{
		{"signed alert", Request{Method: "POST", Signature: good, Body: alert}, 202, 1},
		{"missing signature", Request{Method: "POST", Body: alert}, 401, 0},
		{"wrong signature", Request{Method: "POST", Signature: sign("other", alert), Body: alert}, 401, 0},
		{"truncated signature", Request{Method: "POST", Signature: good[:10], Body: alert}, 401, 0},
		{"non-base64 signature", Request{Method: "POST", Signature: "%%%not base64%%%", Body: alert}, 401, 0},
		{"signature of another body", Request{Method: "POST", Signature: good, Body: append(alert[:len(alert)-1:len(alert)-1], []byte(`,"x":1}`)...)}, 401, 0},
		{"wrong method", Request{Method: "GET", Signature: good, Body: alert}, 405, 0},
		{"64 KiB + 1", Request{Method: "POST", Signature: sign(testSecret, big), Body: big}, 413, 0},
		{"non-JSON", Request{Method: "POST", Signature: sign(testSecret, []byte("hello")), Body: []byte("hello")}, 400, 0},
		{"JSON but not an object", Request{Method: "POST", Signature: sign(testSecret, []byte(`[1]`)), Body: []byte(`[1]`)}, 400, 0},
		{"deeply nested JSON", Request{Method: "POST", Signature: sign(testSecret, deep), Body: deep}, 400, 0},
		{"templated body without id", Request{Method: "POST", Signature: sign(testSecret, []byte(`{"text":"hi"}`)), Body: []byte(`{"text":"hi"}`)}, 202, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{}
			var out bytes.Buffer
			h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte(testSecret)}}, Queue: q, Metrics: &out}
			resp := h.Handle(context.Background(), tt.req)
			if resp.Status != tt.status || len(q.got) != tt.enqueued {
				t.Fatalf("status %d (%s), enqueued %d; want %d, %d", resp.Status, resp.Body, len(q.got), tt.status, tt.enqueued)
			}
			wantCounted(t, out.Bytes(), tt.status)
		})
	}
}

func TestReplayedAlertHasOneDeduplicationID(t *testing.T) {
	open := fixture(t, "webhook-alert-kms-network-denied.synthetic.json")
	closed := fixture(t, "webhook-alert-kms-network-denied-closed.synthetic.json")
	q := &fakeQueue{}
	h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte(testSecret)}}, Queue: q}
	for _, b := range [][]byte{open, open, closed} {
		if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, b), Body: b}); r.Status != 202 {
			t.Fatalf("status %d", r.Status)
		}
	}
	if q.got[0].DedupID != q.got[1].DedupID || q.got[0].DedupID != "6561f0a2c3d4e5f6a7b8c9d0-OPEN" || q.got[2].DedupID != "6561f0a2c3d4e5f6a7b8c9d0-CLOSED" {
		t.Fatalf("dedup ids %q %q %q", q.got[0].DedupID, q.got[1].DedupID, q.got[2].DedupID)
	}
	if q.got[0].EventTypeName != "ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED" || q.got[0].GroupID != "5aec7afbf7d068e35a39809b" {
		t.Fatalf("trigger %+v", q.got[0])
	}
	real := fixture(t, "webhook-alert-primary-elected.real.json")
	q.got = nil
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, real), Body: real}); r.Status != 202 || q.got[0].DedupID != "629a8b871dfc48492150a766-INFORMATIONAL" {
		t.Fatalf("real alert: %d %+v", r.Status, q.got)
	}
}

func TestRotationAcceptsBothSecrets(t *testing.T) {
	body := []byte(`{"id":"a","status":"OPEN"}`)
	for _, s := range []string{"new-secret", "old-secret"} {
		q := &fakeQueue{}
		h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte("new-secret"), []byte("old-secret")}}, Queue: q}
		if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(s, body), Body: body}); r.Status != 202 {
			t.Fatalf("%s: %d", s, r.Status)
		}
	}
}

func TestSourceCheckComesFirst(t *testing.T) {
	body := []byte(`{"id":"a"}`)
	atlas := netip.MustParseAddr("3.92.113.229")
	sec := &fakeSecrets{values: [][]byte{[]byte(testSecret)}}
	q := &fakeQueue{}
	h := &Handler{Secrets: sec, Queue: q, SourceAllowed: func(_ context.Context, a netip.Addr) (bool, error) { return a == atlas, nil }}
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, body), Body: body, SourceIP: "198.51.100.1"}); r.Status != 403 || sec.calls != 0 {
		t.Fatalf("foreign source: %d, secret read %d times", r.Status, sec.calls)
	}
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, body), Body: body, SourceIP: "3.92.113.229"}); r.Status != 202 {
		t.Fatalf("Atlas source: %d", r.Status)
	}
	h.SourceAllowed = func(context.Context, netip.Addr) (bool, error) { return false, errors.New("s3 down") }
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, body), Body: body, SourceIP: "3.92.113.229"}); r.Status != 503 {
		t.Fatalf("source check unavailable: %d", r.Status)
	}
}

func TestQueueAndSecretFailuresAre503(t *testing.T) {
	body := []byte(`{"id":"a"}`)
	h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte(testSecret)}}, Queue: &fakeQueue{fail: errors.New("sqs down")}}
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, body), Body: body}); r.Status != 503 {
		t.Fatalf("queue down: %d", r.Status)
	}
	h = &Handler{Secrets: &fakeSecrets{err: errors.New("sm down")}, Queue: &fakeQueue{}}
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, body), Body: body}); r.Status != 503 {
		t.Fatalf("secret down: %d", r.Status)
	}
}

func TestEventTypeAllowList(t *testing.T) {
	body := []byte(`{"id":"a","eventTypeName":"PRIMARY_ELECTED"}`)
	q := &fakeQueue{}
	h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte(testSecret)}}, Queue: q, EventTypes: map[string]bool{"ENCRYPTION_AT_REST_KMS_NETWORK_ACCESS_DENIED": true}}
	if r := h.Handle(context.Background(), Request{Method: "POST", Signature: sign(testSecret, body), Body: body}); r.Status != 202 || len(q.got) != 0 {
		t.Fatalf("%d, enqueued %d", r.Status, len(q.got))
	}
}

func TestFunctionURLBase64Body(t *testing.T) {
	body := []byte(`{"id":"a","status":"OPEN"}`)
	q := &fakeQueue{}
	h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte(testSecret)}}, Queue: q}
	req := events.LambdaFunctionURLRequest{
		Headers:         map[string]string{"x-mms-signature": sign(testSecret, body)},
		Body:            base64.StdEncoding.EncodeToString(body),
		IsBase64Encoded: true,
	}
	req.RequestContext.HTTP.Method = "POST"
	resp, err := h.HandleFunctionURL(context.Background(), req)
	if err != nil || resp.StatusCode != 202 || len(q.got) != 1 {
		t.Fatalf("%d %v %d", resp.StatusCode, err, len(q.got))
	}
	req.Body = "!!!"
	var out bytes.Buffer
	h.Metrics = &out
	if resp, _ := h.HandleFunctionURL(context.Background(), req); resp.StatusCode != 400 {
		t.Fatalf("bad base64: %d", resp.StatusCode)
	}
	wantCounted(t, out.Bytes(), 400) // answered before Handle, counted all the same
}

// wantCounted checks that out holds exactly one request, counted under
// its status code.
func wantCounted(t *testing.T, out []byte, status int) {
	t.Helper()
	got, err := metrics.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key() != "AtlasIpSync/WebhookRequests{StatusCode}" || got[0].Labels[metrics.StatusCode] != strconv.Itoa(status) || got[0].Value != 1 {
		t.Errorf("metrics %+v, want one WebhookRequests with StatusCode %d", got, status)
	}
}

func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{"id":"a","status":"OPEN"}`), "", true)
	f.Add([]byte(`not json`), "AAAA", false)
	f.Fuzz(func(t *testing.T, body []byte, sig string, signIt bool) {
		if signIt {
			sig = sign(testSecret, body)
		}
		q := &fakeQueue{}
		h := &Handler{Secrets: &fakeSecrets{values: [][]byte{[]byte(testSecret)}}, Queue: q}
		r := h.Handle(context.Background(), Request{Method: "POST", Signature: sig, Body: body})
		switch r.Status {
		case 202:
			if sig != sign(testSecret, body) || len(q.got) != 1 || q.got[0].DedupID == "" || len(q.got[0].DedupID) > 128 {
				t.Fatalf("accepted: sig ok %v, enqueued %+v", sig == sign(testSecret, body), q.got)
			}
		case 400, 401, 413:
			if len(q.got) != 0 {
				t.Fatal("refused but enqueued")
			}
		default:
			t.Fatalf("status %d", r.Status)
		}
	})
}

func TestDedupSafe(t *testing.T) {
	for s, want := range map[string]bool{
		"": false, "6561f0a2c3d4e5f6a7b8c9d0-OPEN": true, "a_b.c:d-E9": true,
		"a b": false, "a/b": false, "é": false, "a\x00": false, "a+b": false,
	} {
		if got := dedupSafe(s); got != want {
			t.Errorf("dedupSafe(%q) = %v, want %v", s, got, want)
		}
	}
	// An alert id SQS cannot take falls back to a hash of the body.
	tr, err := parse([]byte(`{"id":"a b","status":"OPEN"}`))
	if err != nil || tr.DedupID == "" || strings.Contains(tr.DedupID, " ") {
		t.Fatalf("dedup id %q, %v", tr.DedupID, err)
	}
}
