package snapshotstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshotstore"
	"github.com/atlas-ip-sync/atlas-ip-sync/internal/testenv"
)

// A FileStore honours its context: stopped, it neither reads nor writes.
func TestFileStoreHonoursItsContext(t *testing.T) {
	p := filepath.Join(t.TempDir(), "snapshot.json")
	f := snapshotstore.NewFileStore(p)
	v, err := f.Save(context.Background(), testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.1"), "")
	if err != nil {
		t.Fatal(err)
	}
	before := read(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.Load(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("load, stopped: %v", err)
	}
	if _, err := f.Save(ctx, testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.2"), v); !errors.Is(err, context.Canceled) {
		t.Fatalf("save, stopped: %v", err)
	}
	if after := read(t, p); after != before {
		t.Fatalf("a stopped save wrote:\n%s", after)
	}
}

// A lock held by another process (a hung run) makes Save wait, but only
// as long as its context lets it; once the lock is free, Save goes on.
func TestFileStoreWaitsForTheLockWhileItsContextLets(t *testing.T) {
	p := filepath.Join(t.TempDir(), "snapshot.json")
	f := snapshotstore.NewFileStore(p)
	lock, err := os.OpenFile(p+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	// flock locks an open file: another open of the same path, even in this
	// process, is refused as another process's would be.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	s := testenv.SampleSnapshot(time.Now().UTC(), "192.0.2.1")
	if _, err := f.Save(ctx, s, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("save past its deadline: %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a save that never held the lock wrote the snapshot: %v", err)
	}
	saved := make(chan error, 1)
	go func() {
		_, err := f.Save(context.Background(), s, "")
		saved <- err
	}()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-saved; err != nil {
		t.Fatalf("save once the lock is free: %v", err)
	}
	if _, _, err := f.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
