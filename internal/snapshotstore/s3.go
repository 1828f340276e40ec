// Package snapshotstore keeps the snapshot (internal/snapshot): in one S3
// object or a local file, each write a compare-and-swap, and the sets
// published beside it for infrastructure as code. It is the snapshot's
// I/O; the value and the Store interface stay in internal/snapshot.
package snapshotstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// s3API is what the S3 store needs of the SDK client.
type s3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3Store keeps the snapshot in one S3 object. Save is a conditional write:
// If-None-Match: * for the first snapshot, If-Match: <ETag> after, so two
// runs racing on one snapshot cannot both win.
type S3Store struct {
	client      s3API
	bucket, key string
}

// NewS3Store returns a store at s3://bucket/key.
func NewS3Store(client s3API, bucket, key string) *S3Store {
	return &S3Store{client: client, bucket: bucket, key: key}
}

// URL is s3://bucket/key.
func (s *S3Store) URL() string { return "s3://" + s.bucket + "/" + s.key }

// Load reads the snapshot and its ETag, or returns snapshot.ErrNotFound.
func (s *S3Store) Load(ctx context.Context) (*snapshot.Snapshot, snapshot.Version, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &s.key})
	if err != nil {
		var nsk *types.NoSuchKey
		var api smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &api) && api.ErrorCode() == "NoSuchKey") {
			return nil, "", snapshot.ErrNotFound
		}
		if errors.As(err, &api) && api.ErrorCode() == "AccessDenied" {
			// S3 answers a missing key with 403, not 404, to a caller
			// without s3:ListBucket: before the first snapshot exists, that
			// is the likelier cause than a missing s3:GetObject.
			return nil, "", fmt.Errorf("read snapshot %s: %w (if no snapshot exists yet, S3 answers 403 instead of 404 to a caller without s3:ListBucket on arn:aws:s3:::%s; grant it, with s3:GetObject and s3:PutObject on the key)", s.URL(), err, s.bucket)
		}
		return nil, "", fmt.Errorf("read snapshot %s: %w", s.URL(), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 64<<20))
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", s.URL(), err)
	}
	snap, err := snapshot.Unmarshal(b)
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", s.URL(), err)
	}
	return snap, snapshot.Version(aws.ToString(out.ETag)), nil
}

// Save writes snap if the object is still at prev.
func (s *S3Store) Save(ctx context.Context, snap *snapshot.Snapshot, prev snapshot.Version) (snapshot.Version, error) {
	b, err := snap.Marshal()
	if err != nil {
		return "", fmt.Errorf("write snapshot %s: %w", s.URL(), err)
	}
	in := &s3.PutObjectInput{
		Bucket:      &s.bucket,
		Key:         &s.key,
		Body:        bytes.NewReader(b),
		ContentType: aws.String("application/json"),
	}
	if prev == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(string(prev))
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			switch api.ErrorCode() {
			case "PreconditionFailed", "ConditionalRequestConflict":
				return "", &snapshot.ConflictError{URL: s.URL(), Err: err}
			}
		}
		return "", fmt.Errorf("write snapshot %s: %w", s.URL(), err)
	}
	return snapshot.Version(aws.ToString(out.ETag)), nil
}

// PutBeside writes body at rel under the snapshot key's prefix.
func (s *S3Store) PutBeside(ctx context.Context, rel string, body []byte) error {
	key := path.Join(path.Dir(s.key), rel)
	if path.Dir(s.key) == "." {
		key = rel
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", s.bucket, key, err)
	}
	return nil
}
