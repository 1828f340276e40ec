package atlasconn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/config"
)

// A Secrets Manager that never answers fails the read at the bound, though
// the caller's context has none (the fault matrix's hang row,
// internal/reconcile, ends by the run's context instead).
func TestAHungSecretsManagerFailsAtTheBound(t *testing.T) {
	stop := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hung.Close()
	defer close(stop) // first: the client may keep the connection open
	c, err := config.Parse([]byte(`{"atlas":{"credentials":{"secretId":"ipsync/atlas"},"projects":["5aec7afbf7d068e35a39809b"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(hung.URL),
	}
	_, err = readCredentials(context.Background(), c, awsCfg, nil, 50*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "ipsync/atlas") {
		t.Fatalf("hung Secrets Manager: %v", err)
	}
}
