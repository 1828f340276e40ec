package snapshot

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
)

// FileStore keeps the snapshot in a local file. Save holds an exclusive
// flock on a lock file beside it, so concurrent processes on one host cannot
// lose an update; the kernel releases the lock if a process dies. Writes go
// to a temporary file that is synced and renamed into place.
type FileStore struct {
	path string
}

// NewFileStore returns a store at path.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// URL is file://path.
func (f *FileStore) URL() string { return "file://" + f.path }

func fileVersion(b []byte) Version {
	sum := sha256.Sum256(b)
	return Version("sha256:" + hex.EncodeToString(sum[:]))
}

func (f *FileStore) read() ([]byte, Version, error) {
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", f.URL(), err)
	}
	return b, fileVersion(b), nil
}

// Load reads the snapshot, or returns ErrNotFound.
func (f *FileStore) Load(ctx context.Context) (*Snapshot, Version, error) {
	b, v, err := f.read()
	if err != nil {
		return nil, "", err
	}
	s, err := Unmarshal(b)
	if err != nil {
		return nil, "", fmt.Errorf("read snapshot %s: %w", f.URL(), err)
	}
	return s, v, nil
}

// Save writes s if the file is still at prev.
func (f *FileStore) Save(ctx context.Context, s *Snapshot, prev Version) (Version, error) {
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
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("write snapshot %s: lock: %w", f.URL(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	_, current, err := f.read()
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	if current != prev {
		return "", &ConflictError{URL: f.URL(), Err: fmt.Errorf("stored version %q, expected %q", current, prev)}
	}
	if err := writeAtomic(dir, f.path, b); err != nil {
		return "", fmt.Errorf("write snapshot %s: %w", f.URL(), err)
	}
	return fileVersion(b), nil
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
