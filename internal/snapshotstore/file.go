package snapshotstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/atlas-ip-sync/atlas-ip-sync/internal/snapshot"
)

// FileStore keeps the snapshot in a local file. Save holds an exclusive
// flock on a lock file beside it, so concurrent processes on one host cannot
// lose an update; the kernel releases the lock if a process dies. Writes go
// to a temporary file that is synced and renamed into place. Both honour
// their context: a run whose time is up (or that is stopped) neither reads
// nor writes, and does not wait forever on a lock a hung process holds.
type FileStore struct {
	path string
}

// NewFileStore returns a store at path.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// URL is file://path.
func (f *FileStore) URL() string { return "file://" + f.path }

func fileVersion(b []byte) snapshot.Version {
	sum := sha256.Sum256(b)
	return snapshot.Version("sha256:" + hex.EncodeToString(sum[:]))
}

func (f *FileStore) read() ([]byte, snapshot.Version, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", snapshot.ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", f.URL(), err)
	}
	return b, fileVersion(b), nil
}

// Load reads the snapshot, or returns snapshot.ErrNotFound.
func (f *FileStore) Load(ctx context.Context) (*snapshot.Snapshot, snapshot.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", f.URL(), err)
	}
	b, v, err := f.read()
	if err != nil {
		return nil, "", err
	}
	s, err := snapshot.Unmarshal(b)
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", f.URL(), err)
	}
	return s, v, nil
}

// Save writes s if the file is still at prev.
func (f *FileStore) Save(ctx context.Context, s *snapshot.Snapshot, prev snapshot.Version) (snapshot.Version, error) {
	b, err := s.Marshal()
	if err != nil {
		return "", fmt.Errorf("write snapshot %s: %w", f.URL(), err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write snapshot %s: %w", f.URL(), err)
	}
	lock, err := os.OpenFile(f.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("write snapshot %s: lock: %w", f.URL(), err)
	}
	defer lock.Close() // closing releases the flock
	if err := flock(ctx, lock); err != nil {
		return "", fmt.Errorf("write snapshot %s: lock: %w", f.URL(), err)
	}
	// Checked again with the lock held: a run stopped while it waited
	// writes nothing.
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("write snapshot %s: %w", f.URL(), err)
	}
	_, current, err := f.read()
	if err != nil && !errors.Is(err, snapshot.ErrNotFound) {
		return "", err
	}
	if current != prev {
		return "", &snapshot.ConflictError{URL: f.URL(), Err: fmt.Errorf("stored version %q, expected %q", current, prev)}
	}
	if err := writeAtomic(dir, f.path, b); err != nil {
		return "", fmt.Errorf("write snapshot %s: %w", f.URL(), err)
	}
	return fileVersion(b), nil
}

// flock takes an exclusive lock on file, polling without blocking so that
// ctx can end the wait (a blocking flock cannot be interrupted).
func flock(ctx context.Context, file *os.File) error {
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// writeAtomic writes b to path through a synced temporary file in dir,
// renamed into place: a reader sees the old content or the new, whole.
func writeAtomic(dir, path string, b []byte) error {
	tmp, err := os.CreateTemp(dir, ".ipsync-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// PutBeside writes body at rel beside the snapshot file.
func (f *FileStore) PutBeside(_ context.Context, rel string, body []byte) error {
	p := filepath.Join(filepath.Dir(f.path), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := writeAtomic(filepath.Dir(p), p, body); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
