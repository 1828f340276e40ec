package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// FaultProxy sits between the AWS SDK and moto_server and answers chosen
// operations with the service's own error shape, on the wire: the SDK's
// retries, error decoding and errors.As matching all run for real.
type FaultProxy struct {
	URL string

	srv   *http.Server
	mu    sync.Mutex
	rules []*proxyRule
	seen  map[string]int // "service:Operation" → requests
	// denyMissingKey, when set, says whether a GetObject of a missing key
	// is answered as S3 answers a caller without s3:ListBucket on the
	// bucket: 403 AccessDenied. moto always answers 404 NoSuchKey, so
	// without this no test sees what such a role gets on AWS.
	denyMissingKey func(accessKeyID, bucket string) bool
}

// AWSFault is one injected failure.
type AWSFault struct {
	Service string        // signing name: kms, ec2, s3, sns, sqs, secretsmanager, iam, sts
	Op      string        // operation name, e.g. PutKeyPolicy
	Status  int           // HTTP status to answer
	Code    string        // the service's error code, e.g. ThrottlingException
	Delay   time.Duration // wait before answering (then forward, unless Status is set)
	Times   int           // how many requests it applies to
	// Landed forwards the request before answering Status: the call takes
	// effect and the caller is told it failed (a lost response).
	Landed bool
}

type proxyRule struct {
	f    AWSFault
	left int
}

// StartFaultProxy forwards to target (moto's endpoint).
func StartFaultProxy(target string) (*FaultProxy, error) {
	p := &FaultProxy{seen: map[string]int{}}
	var err error
	p.URL, p.srv, err = serveProxy(target, p.serve)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// serve answers with an injected fault, or forwards.
func (p *FaultProxy) serve(forward http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		service, op := IdentifyAWS(r, body)
		p.mu.Lock()
		p.seen[service+":"+op]++
		var fault *AWSFault
		for _, rule := range p.rules {
			if rule.left > 0 && rule.f.Service == service && rule.f.Op == op {
				rule.left--
				f := rule.f
				fault = &f
				break
			}
		}
		deny := p.denyMissingKey
		p.mu.Unlock()
		if fault == nil && deny != nil && service == "s3" && op == "GetObject" {
			rec := httptest.NewRecorder()
			forward.ServeHTTP(rec, r)
			bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if rec.Code == http.StatusNotFound && bytes.Contains(rec.Body.Bytes(), []byte("<Code>NoSuchKey</Code>")) && deny(accessKeyID(r), bucket) {
				writeAWSError(w, service, http.StatusForbidden, "AccessDenied")
				return
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		if fault != nil {
			if fault.Delay > 0 {
				select {
				case <-time.After(fault.Delay):
				case <-r.Context().Done():
					return
				}
			}
			if fault.Landed {
				forward.ServeHTTP(httptest.NewRecorder(), r)
			}
			if fault.Status != 0 {
				writeAWSError(w, service, fault.Status, fault.Code)
				return
			}
		}
		forward.ServeHTTP(w, r)
	}
}

// Inject adds a fault; faults apply in the order injected.
func (p *FaultProxy) Inject(f AWSFault) {
	p.mu.Lock()
	p.rules = append(p.rules, &proxyRule{f: f, left: f.Times})
	p.mu.Unlock()
}

// DenyMissingKeys makes every GetObject of a missing key answer 403
// AccessDenied, as S3 answers a caller that lacks s3:ListBucket.
func (p *FaultProxy) DenyMissingKeys(on bool) {
	var deny func(string, string) bool
	if on {
		deny = func(string, string) bool { return true }
	}
	p.DenyMissingKeysTo(deny)
}

// DenyMissingKeysTo answers a GetObject of a missing key with 403 when
// lacksList(the caller's access key id, the bucket) says the caller may not
// s3:ListBucket (nil: moto's 404 for everyone).
func (p *FaultProxy) DenyMissingKeysTo(lacksList func(accessKeyID, bucket string) bool) {
	p.mu.Lock()
	p.denyMissingKey = lacksList
	p.mu.Unlock()
}

// Clear removes every fault.
func (p *FaultProxy) Clear() { p.mu.Lock(); p.rules = nil; p.mu.Unlock() }

// Requests counts requests for service:Op that reached the proxy.
func (p *FaultProxy) Requests(service, op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[service+":"+op]
}

// Close stops the proxy.
func (p *FaultProxy) Close() { _ = p.srv.Close() }

var (
	credScope = regexp.MustCompile(`Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request`)
	credKey   = regexp.MustCompile(`Credential=([^/]+)/`)
)

// accessKeyID is the key a request was signed with.
func accessKeyID(r *http.Request) string {
	if m := credKey.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// IdentifyAWS names an AWS request's service (from the signature's scope)
// and operation (JSON target header, query Action, or S3 method and path).
func IdentifyAWS(r *http.Request, body []byte) (service, op string) {
	if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		service = m[1]
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return service, t[strings.LastIndex(t, ".")+1:]
	}
	if vals, err := url.ParseQuery(string(body)); err == nil && vals.Get("Action") != "" {
		return service, vals.Get("Action")
	}
	if service == "s3" {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
		switch {
		case r.Method == http.MethodGet && len(parts) == 2 && parts[1] != "":
			return service, "GetObject"
		case r.Method == http.MethodPut && len(parts) == 2 && parts[1] != "":
			return service, "PutObject"
		}
		return service, r.Method + " " + r.URL.Path
	}
	return service, ""
}

// writeAWSError answers in the shape each protocol uses.
func writeAWSError(w http.ResponseWriter, service string, status int, code string) {
	msg := "injected by the test's fault proxy"
	switch service {
	case "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>fault-1</RequestID></Response>`, code, msg)
	case "sns", "iam", "sts": // the awsQuery protocol
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-1</RequestId></ErrorResponse>`, kind, code, msg)
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fault-1</RequestId></Error>`, code, msg)
	default: // JSON protocols: kms, secretsmanager, sqs
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
	}
}
