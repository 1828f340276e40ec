package snapshotstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// storeContract is what every Store must do.
func storeContract(t *testing.T, newStore func(t *testing.T) snapshot.Store) {
	ctx := context.Background()
	t.Run("empty store", func(t *testing.T) {
		st := newStore(t)
		if _, _, err := st.Load(ctx); !errors.Is(err, snapshot.ErrNotFound) {
			t.Fatalf("Load on empty store: %v, want ErrNotFound", err)
		}
	})
	t.Run("compare and swap", func(t *testing.T) {
		st := newStore(t)
		s1 := testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.1")
		v1, err := st.Save(ctx, s1, "")
		if err != nil || v1 == "" {
			t.Fatalf("first save: %q %v", v1, err)
		}
		// A second "first" write loses.
		var conflict *snapshot.ConflictError
		if _, err := st.Save(ctx, testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.7"), ""); !errors.As(err, &conflict) {
			t.Fatalf("second first-save: %v, want ConflictError", err)
		}
		got, gv, err := st.Load(ctx)
		if err != nil || gv != v1 || got.Hash != s1.Hash {
			t.Fatalf("load after lost race: %v %q %v", got, gv, err)
		}
		s2 := testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.2")
		v2, err := st.Save(ctx, s2, v1)
		if err != nil || v2 == v1 {
			t.Fatalf("save at v1: %q %v", v2, err)
		}
		// A writer still holding v1 loses and writes nothing.
		if _, err := st.Save(ctx, testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.8"), v1); !errors.As(err, &conflict) {
			t.Fatalf("stale save: %v, want ConflictError", err)
		}
		got, gv, err = st.Load(ctx)
		if err != nil || gv != v2 || got.Hash != s2.Hash {
			t.Fatalf("after stale save: %+v %q %v", got, gv, err)
		}
	})
	t.Run("no lost update under concurrency", func(t *testing.T) {
		st := newStore(t)
		const writers = 12
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each writer adds its own project, retrying on conflict from fresh state.
				for range 200 {
					cur, v, err := st.Load(ctx)
					if errors.Is(err, snapshot.ErrNotFound) {
						cur, v, err = &snapshot.Snapshot{Projects: map[string]snapshot.Project{}}, "", nil
					}
					if err != nil {
						errs <- err
						return
					}
					cur.Projects[fmt.Sprintf("%024x", i)] = snapshot.Project{Clusters: map[string]snapshot.Cluster{}}
					cur.Seal()
					_, err = st.Save(ctx, cur, v)
					var conflict *snapshot.ConflictError
					if errors.As(err, &conflict) {
						continue
					}
					errs <- err
					return
				}
				errs <- fmt.Errorf("writer %d never won", i)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		final, _, err := st.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(final.Projects) != writers {
			t.Fatalf("final snapshot has %d projects, want %d: updates were lost", len(final.Projects), writers)
		}
	})
}

// Version 1 kept the run's alert state under "run" among the targets';
// it is read as the run's, and the snapshot is written back as version 2.
func TestFileStore(t *testing.T) {
	storeContract(t, func(t *testing.T) snapshot.Store {
		return snapshotstore.NewFileStore(filepath.Join(t.TempDir(), "nested", "snapshot.json"))
	})
}

func TestFileStoreDamagedFileIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "snapshot.json")
	if err := os.WriteFile(p, []byte(`{"schemaVersion":1,`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := snapshotstore.NewFileStore(p).Load(context.Background())
	if err == nil || errors.Is(err, snapshot.ErrNotFound) || !strings.Contains(err.Error(), p) {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestS3Store(t *testing.T) {
	moto := testenv.SharedMoto(t)
	client := s3.NewFromConfig(moto.AWSConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	n := 0
	storeContract(t, func(t *testing.T) snapshot.Store {
		n++
		bucket := fmt.Sprintf("ipsync-test-%d-%d", time.Now().UnixNano(), n)
		if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			t.Fatalf("create bucket: %v", err)
		}
		return snapshotstore.NewS3Store(client, bucket, "ipsync/snapshot.json")
	})
}

// On AWS a role without s3:ListBucket gets 403 AccessDenied, not 404, for
// the snapshot before the first run writes it (moto always answers 404, so
// the fault proxy answers as S3 does). The error must say what to grant;
// with ListBucket (a 404) the store reports "no snapshot yet".
func TestS3StoreMissingKeyWithoutListBucket(t *testing.T) {
	moto := testenv.SharedMoto(t)
	proxy, err := testenv.StartFaultProxy(moto.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	client := s3.NewFromConfig(testenv.AWSConfigAt(t, proxy.URL), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := fmt.Sprintf("ipsync-test-denied-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	store := snapshotstore.NewS3Store(client, bucket, "ipsync/snapshot.json")
	if _, _, err := store.Load(context.Background()); !errors.Is(err, snapshot.ErrNotFound) {
		t.Fatalf("404: %v, want ErrNotFound", err)
	}
	proxy.DenyMissingKeys(true)
	_, _, err = store.Load(context.Background())
	if err == nil || errors.Is(err, snapshot.ErrNotFound) || !strings.Contains(err.Error(), "AccessDenied") ||
		!strings.Contains(err.Error(), "s3:ListBucket on arn:aws:s3:::"+bucket) {
		t.Fatalf("403 on a missing key: %v", err)
	}
	// A key that exists is read as before: only missing keys are denied.
	if _, err := store.Save(context.Background(), testenv.SampleSnapshot(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "192.0.2.1"), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Load(context.Background()); err != nil {
		t.Fatalf("existing key through the denying proxy: %v", err)
	}
}
