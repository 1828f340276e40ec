package atlas_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
)

func TestEncryptionAtRest(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	ctx := context.Background()
	e, err := c.EncryptionAtRest(ctx, projectA)
	if err != nil || !e.Valid || !e.Enabled {
		t.Fatalf("valid project: %+v %v", e, err)
	}
	sim.SetEncryptionAtRestValid(projectA, false)
	if e, err = c.EncryptionAtRest(ctx, projectA); err != nil || e.Valid {
		t.Fatalf("after the flip: %+v %v", e, err)
	}
	if got := sim.Calls(atlastest.EncryptionAtRest); got != 2 {
		t.Fatalf("%d calls, want 2", got)
	}
	_, err = c.EncryptionAtRest(ctx, "7aec7afbf7d068e35a39809d")
	var apiErr *atlas.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Fatalf("unknown project: %v", err)
	}
}

// A key in an Azure vault: Atlas's answer names the vault, and whether
// Atlas reaches it privately.
func TestEncryptionAtRestInAzure(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	sim.SetEncryptionAtRestAzure(projectA, atlastest.AzureKeyVault{SubscriptionID: "00000000-0000-0000-0000-000000000000", ResourceGroupName: "rg", KeyVaultName: "atlas-kv", RequirePrivateNetworking: true})
	e, err := c.EncryptionAtRest(context.Background(), projectA)
	if err != nil || !e.Valid || fmt.Sprint(e.Providers) != "[azureKeyVault]" || e.AzureVault == nil || e.AzureVault.KeyVaultName != "atlas-kv" || !e.AzureVault.RequirePrivateNetworking {
		t.Fatalf("%+v %v", e, err)
	}
	sim.SetEncryptionAtRestValid(projectA, false)
	if e, err = c.EncryptionAtRest(context.Background(), projectA); err != nil || e.Valid {
		t.Fatalf("after the flip: %+v %v", e, err)
	}
}

// The simulator's delayed flip, which the rollback tests and the demo use.
func TestEncryptionAtRestFlipsAfterAnswers(t *testing.T) {
	sim := startSim(t)
	c := newClient(t, sim, nil)
	sim.SetEncryptionAtRestValidAfter(projectA, false, 2)
	var got []bool
	for range 4 {
		e, err := c.EncryptionAtRest(context.Background(), projectA)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Valid)
	}
	if fmt.Sprint(got) != "[true true false false]" {
		t.Fatalf("valid over four answers: %v", got)
	}
}
