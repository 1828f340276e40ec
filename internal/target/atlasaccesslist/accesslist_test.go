package atlasaccesslist

import (
	"context"
	"strings"
	"testing"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas"
)

// fakeList is an access list in memory.
type fakeList struct{ entries []atlas.AccessEntry }

func (f *fakeList) AccessList(context.Context, string) ([]atlas.AccessEntry, error) {
	return f.entries, nil
}
func (f *fakeList) AddAccessEntry(_ context.Context, _ string, e atlas.AccessEntry) error {
	f.entries = append(f.entries, e)
	return nil
}
func (f *fakeList) DeleteAccessEntry(context.Context, string, string) error { return nil }

// Write skips only a prefix the document does not speak for; a statement
// it cannot read (two with one Sid, no condition) is an error, never
// "nothing to do".
func TestWriteReadsEveryStatementItIsGiven(t *testing.T) {
	a := New(&fakeList{}, []string{"atlas-ip-sync:", "other:"})
	ok := `{"Statement":[{"Sid":"atlas-ip-sync:","Effect":"Allow","Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.1/32"]}}}]}`
	if err := a.Write(context.Background(), "p", []byte(ok)); err != nil {
		t.Fatalf("a document for one prefix: %v", err)
	}
	for name, doc := range map[string]string{
		"two statements": `{"Statement":[{"Sid":"atlas-ip-sync:","Condition":{"IpAddress":{"aws:SourceIp":[]}}},{"Sid":"atlas-ip-sync:","Condition":{"IpAddress":{"aws:SourceIp":[]}}}]}`,
		"no condition":   `{"Statement":[{"Sid":"atlas-ip-sync:","Effect":"Allow"}]}`,
		"not JSON":       `{"Statement":[`,
	} {
		err := a.Write(context.Background(), "p", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), "write") {
			t.Errorf("%s: %v, want an error", name, err)
		}
	}
}
