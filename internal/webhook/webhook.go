// Package webhook receives Atlas alert webhooks: it checks where a request
// comes from and its signature, reads just enough of the alert, and enqueues
// a trigger for the reconcile function. Nothing of the body is trusted beyond
// "something happened": the reconcile fetches the truth from Atlas itself.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/metrics"
)

// MaxBody is the largest body accepted (Atlas alerts are a few KiB).
const MaxBody = 64 << 10

// Request is an HTTP request, whichever way it arrived.
type Request struct {
	Method    string
	Signature string // X-MMS-Signature
	Body      []byte // raw, as signed
	SourceIP  string
}

// Response is the answer to give.
type Response struct {
	Status int
	Body   string
}

// Trigger is what is enqueued for the reconcile function.
type Trigger struct {
	AlertID       string    `json:"alertId,omitempty"`
	EventTypeName string    `json:"eventTypeName,omitempty"`
	GroupID       string    `json:"groupId,omitempty"`
	Status        string    `json:"status,omitempty"`
	ReceivedAt    time.Time `json:"receivedAt"`
	// DedupID is the FIFO deduplication id: alert id and status, or a hash
	// of the body when the (user-templated) body has no id.
	DedupID string `json:"-"`
}

// Secrets returns the webhook secrets currently valid: during a rotation,
// both the current and the previous one. fresh forces a re-read.
type Secrets interface {
	Secrets(ctx context.Context, fresh bool) ([][]byte, error)
}

// Queue takes triggers.
type Queue interface {
	Enqueue(ctx context.Context, t Trigger) error
}

// Handler answers webhook requests.
type Handler struct {
	Secrets Secrets
	Queue   Queue
	// EventTypes, when not empty, is the alert types that trigger a run;
	// other signed alerts are acknowledged and dropped.
	EventTypes map[string]bool
	// SourceAllowed, when set, refuses requests from addresses that are not
	// Atlas's control-plane outbound addresses, before any signature work.
	SourceAllowed func(ctx context.Context, addr netip.Addr) (bool, error)
	Log           *slog.Logger
	Now           func() time.Time
	// Metrics, when set, takes one EMF line per request: its status code.
	Metrics io.Writer
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// answered counts a response by its status code. A failure to write the
// metric is logged: the request was answered either way.
func (h *Handler) answered(resp Response) Response {
	if h.Metrics == nil {
		return resp
	}
	err := metrics.Write(h.Metrics, h.now(), metrics.Line{
		Dimensions: [][]metrics.Dimension{{metrics.StatusCode}},
		Labels:     map[metrics.Dimension]string{metrics.StatusCode: strconv.Itoa(resp.Status)},
		Values:     []metrics.Value{{Name: metrics.WebhookRequests, Unit: metrics.Count, Value: 1}},
	})
	if err != nil && h.Log != nil {
		h.Log.Error("writing metrics failed", "error", err.Error())
	}
	return resp
}

func answer(status int, msg string) Response {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return Response{Status: status, Body: string(b)}
}

// Handle answers one request and counts the answer.
func (h *Handler) Handle(ctx context.Context, r Request) Response {
	return h.answered(h.handle(ctx, r))
}

func (h *Handler) handle(ctx context.Context, r Request) Response {
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if r.Method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, "POST only")
	}
	if len(r.Body) > MaxBody {
		return answer(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", MaxBody))
	}
	if h.SourceAllowed != nil {
		addr, err := netip.ParseAddr(r.SourceIP)
		ok := false
		if err == nil {
			ok, err = h.SourceAllowed(ctx, addr.Unmap())
			if err != nil {
				log.Error("source check unavailable", "error", err.Error())
				return answer(http.StatusServiceUnavailable, "try again later")
			}
		}
		if !ok {
			log.Warn("webhook refused: source is not an Atlas control-plane address", "source", r.SourceIP)
			return answer(http.StatusForbidden, "forbidden")
		}
	}
	if status, msg := h.verify(ctx, r); status != 0 {
		log.Warn("webhook refused", "status", status, "why", msg, "source", r.SourceIP)
		return answer(status, msg)
	}
	t, err := parse(r.Body)
	if err != nil {
		return answer(http.StatusBadRequest, err.Error())
	}
	t.ReceivedAt = h.now().UTC()
	if len(h.EventTypes) > 0 && !h.EventTypes[t.EventTypeName] {
		log.Info("webhook ignored: event type not configured", "eventTypeName", t.EventTypeName)
		return answer(http.StatusAccepted, "ignored")
	}
	if err := h.Queue.Enqueue(ctx, t); err != nil {
		log.Error("enqueue failed", "error", err.Error())
		return answer(http.StatusServiceUnavailable, "queue unavailable; retry")
	}
	log.Info("webhook accepted", "alertId", t.AlertID, "eventTypeName", t.EventTypeName, "status", t.Status, "groupId", t.GroupID)
	return answer(http.StatusAccepted, "accepted")
}

// verify checks X-MMS-Signature = base64(HMAC-SHA1(secret, body)) against
// every valid secret in constant time; a miss re-reads the secrets once, in
// case they were rotated since they were cached.
func (h *Handler) verify(ctx context.Context, r Request) (int, string) {
	if r.Signature == "" {
		return http.StatusUnauthorized, "missing signature"
	}
	sig, err := base64.StdEncoding.DecodeString(r.Signature)
	if err != nil || len(sig) != sha1.Size {
		return http.StatusUnauthorized, "bad signature"
	}
	for _, fresh := range []bool{false, true} {
		secrets, err := h.Secrets.Secrets(ctx, fresh)
		if err != nil {
			return http.StatusServiceUnavailable, "secret unavailable; retry"
		}
		for _, s := range secrets {
			mac := hmac.New(sha1.New, s)
			mac.Write(r.Body)
			if hmac.Equal(mac.Sum(nil), sig) {
				return 0, ""
			}
		}
	}
	return http.StatusUnauthorized, "bad signature"
}

// dedupSafe: the characters SQS allows in a deduplication id that alert
// ids and statuses use. A loop, not a regexp, which would be compiled on
// every cold start.
func dedupSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return s != ""
}

// parse reads the few fields a trigger carries. Atlas lets users template
// the body, so any of them may be missing; only "a JSON object" is required.
func parse(body []byte) (Trigger, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Trigger{}, fmt.Errorf("body is not a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return Trigger{}, fmt.Errorf("body is not valid JSON")
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(raw[k], &s)
		return s
	}
	t := Trigger{AlertID: str("id"), EventTypeName: str("eventTypeName"), GroupID: str("groupId"), Status: str("status")}
	if id := t.AlertID + "-" + t.Status; t.AlertID != "" && len(id) <= 100 && dedupSafe(id) {
		t.DedupID = id
	} else {
		sum := sha256.Sum256(body)
		t.DedupID = "body-" + hex.EncodeToString(sum[:])[:64]
	}
	return t, nil
}
