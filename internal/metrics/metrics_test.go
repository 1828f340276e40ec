package metrics

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWriteThenRead(t *testing.T) {
	var buf bytes.Buffer
	at := time.Unix(1763630043, 0)
	err := Write(&buf, at, Line{
		Dimensions: [][]Dimension{{}, {Outcome}},
		Labels:     map[Dimension]string{Outcome: "applied"},
		Values:     []Value{{Runs, Count, 1}, {AtlasFetchLatency, Milliseconds, 1.5}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"Timestamp":1763630043000`) || !strings.Contains(buf.String(), `"Dimensions":[[],["Outcome"]]`) {
		t.Fatalf("line %s", buf.String())
	}
	got, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Key())
	}
	want := "AtlasIpSync/Runs{} AtlasIpSync/AtlasFetchLatency{} AtlasIpSync/Runs{Outcome} AtlasIpSync/AtlasFetchLatency{Outcome}"
	if strings.Join(keys, " ") != want {
		t.Errorf("read %v, want %s", keys, want)
	}
	if got[3].Value != 1.5 || got[3].Labels[Outcome] != "applied" || got[3].Unit != Milliseconds {
		t.Errorf("last %+v", got[3])
	}
}

func TestWriteRefusesCollidingKeys(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, time.Now(), Line{Labels: map[Dimension]string{"Runs": "x"}, Values: []Value{{Runs, Count, 1}}}); err == nil {
		t.Error("a metric named like a dimension was written")
	}
	if err := Write(&buf, time.Now(), Line{Dimensions: [][]Dimension{{Target}}, Values: []Value{{Runs, Count, 1}}}); err == nil {
		t.Error("a dimension without a value was written")
	}
	if buf.Len() != 0 {
		t.Errorf("refused lines wrote %q", buf.String())
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestWriteReportsTheWriter(t *testing.T) {
	if err := Write(failing{}, time.Now(), Line{Values: []Value{{Runs, Count, 1}}}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("err %v", err)
	}
}

func TestReadRefusesWhatIsNotEMF(t *testing.T) {
	for _, in := range []string{"not json", `{"Runs":1}`, `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Target"]],"Metrics":[{"Name":"Runs"}]}]},"Runs":1}`} {
		if _, err := Read([]byte(in)); err == nil {
			t.Errorf("read %s", in)
		}
	}
}
