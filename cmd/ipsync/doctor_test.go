package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/atlas/atlastest"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestDoctor(t *testing.T) {
	moto := testenv.SharedMoto(t)
	t.Setenv("AWS_ENDPOINT_URL", moto.Endpoint)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	cfg := moto.AWSConfig(t)
	key := testenv.CreateKey(t, cfg, testenv.KeyPolicy("AtlasIPAllowList", "192.0.2.0/32"))
	topic, err := sns.NewFromConfig(cfg).CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("doctor-alerts")})
	if err != nil {
		t.Fatal(err)
	}
	sim := startSim(t)
	sim.AddAPIKey("fenced", "fenced-S3CRET", atlastest.WithAccessList("10.0.0.0/8"))
	snapshotURL := "file://" + filepath.Join(t.TempDir(), "snapshot.json")
	configWith := func(topicArn, extraTargets string) string {
		return writeConfig(t, baseConfig(sim)+`snapshot:
  url: `+snapshotURL+`
notify:
  topicArn: `+topicArn+`
verify:
  window: 0s
targets:
  - name: atlas-ear-key
    type: kms-key-policy
    resource: `+key+`
    sid: AtlasIPAllowList
    encryptionAtRestProjects: ["`+project+`"]
`+extraTargets)
	}
	good := configWith(aws.ToString(topic.TopicArn), "")
	if r := ipsync(t, keyEnv, "apply", "--config", good); r.code != exitOK {
		t.Fatalf("apply: %d %s\n%s", r.code, r.stdout, r.stderr)
	}

	r := ipsync(t, keyEnv, "doctor", "--config", good)
	if r.code != exitOK {
		t.Fatalf("doctor on a good setup: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"ok    atlas control plane", "ok    atlas project " + project, "ok    encryption at rest " + project,
		"ok    target atlas-ear-key", `statement "AtlasIPAllowList" found, NotIpAddress aws:SourceIp with`, "bytes used",
		"ok    snapshot", "ok    alert topic", "WARN  schedule", "no scheduled run recorded yet", "0 failed.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}

	// What a newcomer gets wrong, each with a line that says what to do.
	noSid := testenv.CreateKey(t, cfg, testenv.KeyPolicy("SomethingElse", "192.0.2.0/32"))
	for _, tt := range []struct {
		name string
		env  map[string]string
		cfg  string
		want []string
	}{
		{"wrong key", map[string]string{"ATLAS_PUBLIC_KEY": "pub", "ATLAS_PRIVATE_KEY": "wrong-S3CRET"}, good,
			[]string{"FAIL  atlas project " + project, "check the credentials", "ok    atlas control plane"}},
		{"caller not on the API access list", map[string]string{"ATLAS_PUBLIC_KEY": "fenced", "ATLAS_PRIVATE_KEY": "fenced-S3CRET"}, good,
			[]string{"FAIL  atlas project", "the address 127.0.0.1 is not on the API access list"}},
		{"no credentials at all", nil, good, []string{"FAIL  atlas project", "ATLAS_PUBLIC_KEY", "ok    atlas control plane"}},
		{"statement missing", keyEnv, configWith(aws.ToString(topic.TopicArn), "  - {name: other, type: kms-key-policy, resource: "+noSid+", sid: AtlasIPAllowList}\n"),
			[]string{"FAIL  target other", "Add this statement", `"Sid": "AtlasIPAllowList"`}},
		{"topic missing", keyEnv, configWith("arn:aws:sns:us-east-1:123456789012:no-such-topic", ""), []string{"FAIL  alert topic"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ipsync(t, tt.env, "doctor", "--config", tt.cfg)
			if r.code != exitError {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("doctor output lacks %q:\n%s", w, r.stdout)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "S3CRET") {
				t.Error("a secret reached the output")
			}
		})
	}
	if _, err := os.Stat(strings.TrimPrefix(snapshotURL, "file://")); err != nil {
		t.Fatal(err)
	}
}
