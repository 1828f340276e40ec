package lambdafn_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/lambdafn"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// lambdaEnv is what Lambda sets, plus what the test adds.
func lambdaEnv(extra ...string) func(string) string {
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return func(k string) string { return env[k] }
}

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

func TestAWSConfigRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  func(string) string
		want string
	}{
		{"no region", func(k string) string { return lambdaEnv("AWS_REGION", "")(k) }, "AWS_REGION is not set"},
		{"no keys", lambdaEnv("AWS_ACCESS_KEY_ID", ""), "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"},
		{"a profile", lambdaEnv("AWS_PROFILE", "ops"), "AWS_PROFILE is set"},
		{"web identity", lambdaEnv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/x"), "AWS_ROLE_ARN is set"},
		{"a CA bundle", lambdaEnv("AWS_CA_BUNDLE", "/etc/ca.pem"), "AWS_CA_BUNDLE is set"},
		{"retry settings", lambdaEnv("AWS_MAX_ATTEMPTS", "10"), "AWS_MAX_ATTEMPTS is set"},
		{"defaults mode", lambdaEnv("AWS_DEFAULTS_MODE", "auto"), "AWS_DEFAULTS_MODE is set"},
		{"FIPS not a boolean", lambdaEnv("AWS_USE_FIPS_ENDPOINT", "yes"), `AWS_USE_FIPS_ENDPOINT="yes": want true or false`},
		{"dual stack not a boolean", lambdaEnv("AWS_USE_DUALSTACK_ENDPOINT", "1"), `AWS_USE_DUALSTACK_ENDPOINT="1": want true or false`},
		{"ignore endpoints not a boolean", lambdaEnv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "yes"), `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="yes": want true or false`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lambdafn.AWSConfig(tt.env, quiet)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAWSConfigFromLambdaEnvironment(t *testing.T) {
	cfg, err := lambdafn.AWSConfig(lambdaEnv("AWS_USE_FIPS_ENDPOINT", "TRUE"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Fatalf("credentials %+v %v", creds, err)
	}
	if cfg.Region != "eu-west-1" || cfg.BaseEndpoint != nil {
		t.Fatalf("region %q, endpoint %v", cfg.Region, cfg.BaseEndpoint)
	}
	if o := sqs.NewFromConfig(cfg).Options(); o.EndpointOptions.UseFIPSEndpoint != aws.FIPSEndpointStateEnabled || o.EndpointOptions.UseDualStackEndpoint != aws.DualStackEndpointStateUnset {
		t.Fatalf("AWS_USE_FIPS_ENDPOINT=TRUE did not reach the client alone: %+v", o.EndpointOptions)
	}
	cfg, _ = lambdafn.AWSConfig(lambdaEnv("AWS_USE_DUALSTACK_ENDPOINT", "false"), quiet)
	if o := sqs.NewFromConfig(cfg).Options(); o.EndpointOptions.UseDualStackEndpoint != aws.DualStackEndpointStateDisabled {
		t.Fatalf("AWS_USE_DUALSTACK_ENDPOINT=false did not reach the client: %+v", o.EndpointOptions)
	}

	cfg, err = lambdafn.AWSConfig(lambdaEnv("AWS_REGION", "", "AWS_DEFAULT_REGION", "us-west-2", "AWS_ENDPOINT_URL", "http://127.0.0.1:1"), quiet)
	if err != nil || cfg.Region != "us-west-2" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:1" {
		t.Fatalf("default region and endpoint: %+v %v", cfg, err)
	}
	cfg, err = lambdafn.AWSConfig(lambdaEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), quiet)
	if err != nil || cfg.BaseEndpoint != nil {
		t.Fatalf("ignored endpoint: %v %v", cfg.BaseEndpoint, err)
	}
}

// TestAWSConfigCallsMoto makes real calls with the config: through
// AWS_ENDPOINT_URL, and through a service's own AWS_ENDPOINT_URL_<SERVICE>
// (the SDK clients check the process environment for it too, hence
// t.Setenv).
func TestAWSConfigCallsMoto(t *testing.T) {
	moto := testenv.SharedMoto(t)
	ctx := context.Background()
	cfg, err := lambdafn.AWSConfig(lambdaEnv("AWS_ENDPOINT_URL", moto.Endpoint), quiet)
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) == "" {
		t.Fatalf("GetCallerIdentity through AWS_ENDPOINT_URL: %v", err)
	}

	t.Setenv("AWS_ENDPOINT_URL_SQS", moto.Endpoint)
	cfg, err = lambdafn.AWSConfig(lambdaEnv("AWS_ENDPOINT_URL_SQS", moto.Endpoint), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("lambdafn-endpoint")}); err != nil {
		t.Fatalf("CreateQueue through AWS_ENDPOINT_URL_SQS: %v", err)
	}
	if e := sts.NewFromConfig(cfg).Options().BaseEndpoint; e != nil {
		t.Fatalf("STS got endpoint %s: the SQS endpoint leaked to other services", *e)
	}
}
