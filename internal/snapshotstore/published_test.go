package snapshotstore_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestPutBesideTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	f := snapshotstore.NewFileStore(filepath.Join(dir, "state", "snapshot.json"))
	if err := f.PutBeside(context.Background(), snapshot.TargetSetPath("k"), []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "state", "targets", "k.json")); err != nil || string(b) != "{}\n" {
		t.Fatalf("file: %q %v", b, err)
	}

	moto := testenv.SharedMoto(t)
	client := s3.NewFromConfig(moto.AWSConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := fmt.Sprintf("ipsync-beside-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"ipsync/snapshot.json": "ipsync/targets/k.json", "snapshot.json": "targets/k.json"} {
		s := snapshotstore.NewS3Store(client, bucket, key)
		if err := s.PutBeside(context.Background(), snapshot.TargetSetPath("k"), []byte(key)); err != nil {
			t.Fatal(err)
		}
		out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(want)})
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		b, _ := io.ReadAll(out.Body)
		if string(b) != key || aws.ToString(out.ContentType) != "application/json" {
			t.Fatalf("%s holds %q (%s)", want, b, aws.ToString(out.ContentType))
		}
	}
}
