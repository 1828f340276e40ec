package webhook

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// FromFunctionURL turns a Lambda function URL request into a Request. The
// body may arrive base64-encoded; a body that does not decode is refused.
func FromFunctionURL(e events.LambdaFunctionURLRequest) (Request, *Response) {
	r := Request{Method: e.RequestContext.HTTP.Method, SourceIP: e.RequestContext.HTTP.SourceIP}
	for k, v := range e.Headers {
		if strings.EqualFold(k, "x-mms-signature") {
			r.Signature = v
		}
	}
	if len(e.Body) > base64.StdEncoding.EncodedLen(MaxBody)+4 {
		resp := answer(http.StatusRequestEntityTooLarge, "body too large")
		return r, &resp
	}
	if e.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			resp := answer(http.StatusBadRequest, "body is not valid base64")
			return r, &resp
		}
		r.Body = b
	} else {
		r.Body = []byte(e.Body)
	}
	return r, nil
}

// ToFunctionURL turns a Response into a function URL response.
func ToFunctionURL(resp Response) events.LambdaFunctionURLResponse {
	return events.LambdaFunctionURLResponse{StatusCode: resp.Status, Headers: map[string]string{"Content-Type": "application/json"}, Body: resp.Body}
}

// HandleFunctionURL is the whole function URL handler.
func (h *Handler) HandleFunctionURL(ctx context.Context, e events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	r, early := FromFunctionURL(e)
	if early != nil {
		return ToFunctionURL(h.answered(*early)), nil
	}
	return ToFunctionURL(h.Handle(ctx, r)), nil
}

// ServeHTTP serves the same handler over plain HTTP (ipsync webhook serve).
func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		h.answered(Response{Status: http.StatusBadRequest})
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	host, _, _ := net.SplitHostPort(req.RemoteAddr)
	resp := h.Handle(req.Context(), Request{Method: req.Method, Signature: req.Header.Get("X-MMS-Signature"), Body: body, SourceIP: host})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}
