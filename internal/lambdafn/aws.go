package lambdafn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/wire"
)

// AWSConfig builds the SDK config from what Lambda puts in the environment:
// AWS_REGION and the execution role's AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. It also reads
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> (a local stack),
// AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT.
//
// It does not use the SDK's config.LoadDefaultConfig, as the CLI does:
// that loader links and initialises every credential provider (profiles,
// SSO, web identity, IMDS, processes), none of which a function uses, at a
// cost to every cold start (issue 6; BENCHMARKS.md). A setting only that
// loader understands is refused by name, never ignored.
func AWSConfig(getenv func(string) string, log *slog.Logger) (aws.Config, error) {
	for _, name := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
		"AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION", "AWS_DEFAULTS_MODE",
	} {
		if getenv(name) != "" {
			return aws.Config{}, fmt.Errorf("%s is set, but the functions take from the environment only the region, the execution role's keys, AWS_ENDPOINT_URL[_SERVICE], AWS_USE_FIPS_ENDPOINT and AWS_USE_DUALSTACK_ENDPOINT: unset it", name)
		}
	}
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, fmt.Errorf("AWS_REGION is not set (Lambda sets it)")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		// The SDK's chain would go on to container credentials (ECS,
		// SnapStart); Lambda gives a Go function its role's keys.
		return aws.Config{}, fmt.Errorf("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the execution role; the functions read no other credentials)")
	}
	env := endpointEnv{getenv: getenv}
	for _, flag := range []string{"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		if _, _, err := env.flag(flag); err != nil {
			return aws.Config{}, err
		}
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
		Logger:        wire.SDKLogger(log),
		ConfigSources: []any{env},
	}
	if ignore, _, _ := env.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); !ignore && getenv("AWS_ENDPOINT_URL") != "" {
		cfg.BaseEndpoint = aws.String(getenv("AWS_ENDPOINT_URL"))
	}
	return cfg, nil
}

// endpointEnv answers the SDK clients' questions about endpoints from the
// environment, as the config package's EnvConfig does; the clients find it
// in aws.Config.ConfigSources.
type endpointEnv struct{ getenv func(string) string }

func (e endpointEnv) flag(name string) (value, found bool, err error) {
	switch v := strings.ToLower(e.getenv(name)); v {
	case "":
		return false, false, nil
	case "true", "false":
		return v == "true", true, nil
	default:
		return false, false, fmt.Errorf("%s=%q: want true or false", name, e.getenv(name))
	}
}

// GetIgnoreConfiguredEndpoints reads AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e endpointEnv) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return e.flag("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
}

// GetServiceBaseEndpoint reads AWS_ENDPOINT_URL_<SERVICE>, the service's
// SDK id upper-cased with spaces as underscores (AWS_ENDPOINT_URL_SECRETS_MANAGER).
func (e endpointEnv) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	u := e.getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return u, u != "", nil
}

// GetUseFIPSEndpoint reads AWS_USE_FIPS_ENDPOINT.
func (e endpointEnv) GetUseFIPSEndpoint(context.Context) (aws.FIPSEndpointState, bool, error) {
	return state(e, "AWS_USE_FIPS_ENDPOINT", aws.FIPSEndpointStateEnabled, aws.FIPSEndpointStateDisabled)
}

// GetUseDualStackEndpoint reads AWS_USE_DUALSTACK_ENDPOINT.
func (e endpointEnv) GetUseDualStackEndpoint(context.Context) (aws.DualStackEndpointState, bool, error) {
	return state(e, "AWS_USE_DUALSTACK_ENDPOINT", aws.DualStackEndpointStateEnabled, aws.DualStackEndpointStateDisabled)
}

// state is a true/false variable as one of the SDK's endpoint states; the
// zero T is "unset".
func state[T any](e endpointEnv, name string, enabled, disabled T) (T, bool, error) {
	var unset T
	v, found, err := e.flag(name)
	switch {
	case !found || err != nil:
		return unset, found, err
	case v:
		return enabled, true, nil
	}
	return disabled, true, nil
}
