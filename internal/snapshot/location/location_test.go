package location

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Location
		ok   bool
	}{
		{"s3://bucket/ipsync/snapshot.json", Location{Scheme: "s3", Bucket: "bucket", Key: "ipsync/snapshot.json"}, true},
		{"file://.ipsync/snapshot.json", Location{Scheme: "file", Path: ".ipsync/snapshot.json"}, true},
		{"file:///var/lib/ipsync/s.json", Location{Scheme: "file", Path: "/var/lib/ipsync/s.json"}, true},
		{"s3://bucket", Location{}, false},
		{"s3://bucket/dir/", Location{}, false},
		{"s3:///key", Location{}, false},
		{"file://", Location{}, false},
		{"https://bucket/key", Location{}, false},
		{"/tmp/x.json", Location{}, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v", tt.in, got, err)
		}
	}
}
