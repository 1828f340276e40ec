package atlas

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Credentials authenticate to the Atlas Admin API: either an API key pair
// (HTTP digest) or a service account (OAuth2 client credentials). Exactly one
// kind must be set. Its String and LogValue never show a secret.
type Credentials struct {
	PublicKey    string `json:"publicKey,omitempty"`
	PrivateKey   string `json:"privateKey,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

// Kind names the authentication scheme: "api-key", "service-account" or "none".
func (c Credentials) Kind() string {
	switch {
	case c.PublicKey != "" || c.PrivateKey != "":
		return "api-key"
	case c.ClientID != "" || c.ClientSecret != "":
		return "service-account"
	}
	return "none"
}

// Validate checks that exactly one complete kind of credential is present.
func (c Credentials) Validate() error {
	apiKey := c.PublicKey != "" || c.PrivateKey != ""
	sa := c.ClientID != "" || c.ClientSecret != ""
	switch {
	case apiKey && sa:
		return errors.New("atlas credentials: both an API key and a service account are set; keep one")
	case apiKey && (c.PublicKey == "" || c.PrivateKey == ""):
		return errors.New("atlas credentials: an API key needs both publicKey and privateKey")
	case sa && (c.ClientID == "" || c.ClientSecret == ""):
		return errors.New("atlas credentials: a service account needs both clientId and clientSecret")
	case !apiKey && !sa:
		return errors.New("atlas credentials: none found (set atlas.credentials.secretId, or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY, or ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET)")
	}
	return nil
}

// ParseCredentials reads a Secrets Manager secret string:
// {"publicKey","privateKey"} or {"clientId","clientSecret"}.
func ParseCredentials(secret []byte) (Credentials, error) {
	var c Credentials
	dec := json.NewDecoder(strings.NewReader(string(secret)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// The decoder's message may quote the input; keep the secret out of it.
		return Credentials{}, errors.New(`atlas credentials secret: not a JSON object of the form {"publicKey","privateKey"} or {"clientId","clientSecret"}`)
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, fmt.Errorf("atlas credentials secret: %w", err)
	}
	return c, nil
}

// CredentialsFromEnv reads ATLAS_PUBLIC_KEY + ATLAS_PRIVATE_KEY or
// ATLAS_CLIENT_ID + ATLAS_CLIENT_SECRET through getenv.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	c := Credentials{
		PublicKey:    getenv("ATLAS_PUBLIC_KEY"),
		PrivateKey:   getenv("ATLAS_PRIVATE_KEY"),
		ClientID:     getenv("ATLAS_CLIENT_ID"),
		ClientSecret: getenv("ATLAS_CLIENT_SECRET"),
	}
	if err := c.Validate(); err != nil {
		return Credentials{}, fmt.Errorf("from environment: %w", err)
	}
	return c, nil
}

// String identifies the credential without its secret.
func (c Credentials) String() string {
	switch c.Kind() {
	case "api-key":
		return "api-key " + c.PublicKey
	case "service-account":
		return "service-account " + c.ClientID
	}
	return "none"
}

// GoString keeps %#v from printing secrets.
func (c Credentials) GoString() string { return "atlas.Credentials{" + c.String() + "}" }

// LogValue keeps slog from printing secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }
