package reconciletest

import (
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/policy"
)

func OwnedValues(t testing.TB, doc, sid string) []string {
	t.Helper()
	c, err := policy.Read([]byte(doc), sid)
	if err != nil {
		t.Fatalf("owned statement: %v", err)
	}
	return c.Values
}

const Desired3 = "3.92.113.229/32 3.212.79.116/32 34.193.91.42/32 198.51.100.10/32"

// ForEachKind runs a scenario for every kind of the table (stack_test.go).
func ForEachKind(t *testing.T, f func(t *testing.T, k Kind)) {
	ForKindsWhere(t, func(Kind) bool { return true }, f)
}

// ForKindsWhere runs a scenario for the kinds it applies to.
func ForKindsWhere(t *testing.T, applies func(Kind) bool, f func(t *testing.T, k Kind)) {
	for _, k := range Kinds {
		if applies(k) {
			t.Run(string(k.Name), func(t *testing.T) { f(t, k) })
		}
	}
}
