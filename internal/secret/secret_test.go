package secret_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/secret"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestReadAgainstMoto(t *testing.T) {
	moto := testenv.SharedMoto(t)
	sm := secretsmanager.NewFromConfig(moto.AWSConfig(t))
	ctx := context.Background()
	name := "ipsync/atlas-" + time.Now().Format("150405.000000")
	value := `{"publicKey":"abc","privateKey":"s3cr3t-value"}`
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value}); err != nil {
		t.Fatal(err)
	}
	got, err := secret.Read(ctx, sm, name)
	if err != nil || string(got) != value {
		t.Fatalf("Read = %q, %v", got, err)
	}
	rotated := `{"publicKey":"abc","privateKey":"rotated"}`
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &name, SecretString: &rotated}); err != nil {
		t.Fatal(err)
	}
	prev, err := secret.ReadStage(ctx, sm, name, "AWSPREVIOUS")
	if err != nil || string(prev) != value {
		t.Fatalf("AWSPREVIOUS = %q, %v", prev, err)
	}
	cur, err := secret.Read(ctx, sm, name)
	if err != nil || string(cur) != rotated {
		t.Fatalf("AWSCURRENT after rotation = %q, %v", cur, err)
	}

	_, err = secret.Read(ctx, sm, "ipsync/does-not-exist")
	if !errors.Is(err, secret.ErrNotFound) || !strings.Contains(err.Error(), "ipsync/does-not-exist") {
		t.Fatalf("missing secret: %v", err)
	}
}
