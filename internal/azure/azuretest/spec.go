package azuretest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// spec checks requests and answers against the Key Vault management
// Swagger, converted to OpenAPI 3 by kin-openapi.
type spec struct {
	router routers.Router
}

// loadSpec reads the Swagger 2.0 file (common.json beside it) and builds a
// router over its operations. x-ms-examples name files that are not
// vendored: they are dropped before references are resolved.
func loadSpec(path string) (*spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(b, &doc2); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, item := range doc2.Paths {
		for _, op := range item.Operations() {
			delete(op.Extensions, "x-ms-examples")
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = true
	doc3, err := openapi2conv.ToV3WithLoader(&doc2, loader, &url.URL{Path: filepath.ToSlash(abs)})
	if err != nil {
		return nil, fmt.Errorf("convert %s to OpenAPI 3: %w", path, err)
	}
	// The converted document names no server; the router then matches
	// any host, the simulator's included.
	doc3.Servers = nil
	if err := doc3.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r, err := legacy.NewRouter(doc3)
	if err != nil {
		return nil, err
	}
	return &spec{router: r}, nil
}

// noAuth: the bearer token is checked by the simulator itself.
func noAuth(context.Context, *openapi3filter.AuthenticationInput) error { return nil }

// check validates one exchange; it returns what does not match, or nil.
func (s *spec) check(r *http.Request, body []byte, status int, header http.Header, answer []byte) error {
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no such operation in the spec: %w", r.Method, r.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: noAuth, MultiError: true}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("request %s %s: %w", r.Method, r.URL.Path, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(answer)), Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("answer %d to %s %s: %w", status, r.Method, r.URL.Path, err)
	}
	return nil
}
