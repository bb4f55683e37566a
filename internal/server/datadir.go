package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultDataDir is where Steward keeps its data unless told otherwise:
// $XDG_DATA_HOME/steward, else ~/.local/share/steward (the XDG default),
// and only when no home directory is known, ./steward-data. It is outside
// any checkout, so that "git add ." cannot pick up the CA key, the
// administrator's secret or the store.
func DefaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "steward")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "steward")
	}
	return "steward-data"
}

// GitWorkTree returns the root of the git work tree that holds path (or
// would hold it, for a path that does not exist yet), "" when there is
// none. A data directory there could be committed with the checkout.
func GitWorkTree(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		if parent := filepath.Dir(dir); parent == dir {
			return ""
		}
	}
}

// DataDirLockFile is the file in the data directory that a running
// steward serve (on SQLite) holds an exclusive lock on; it contains the
// holder's process ID.
const DataDirLockFile = "steward.lock"

// ErrDataDirInUse is returned by Open when another process holds the data
// directory.
var ErrDataDirInUse = errors.New("data directory in use")

// dataDirLock is an exclusive lock on a data directory, released by
// release (and by the operating system when the process ends).
type dataDirLock struct {
	f *os.File
}

// lockDataDir takes the exclusive lock of dir without waiting, and writes
// this process's ID into the lock file. When another process holds it the
// error names that process.
func lockDataDir(dir string) (*dataDirLock, error) {
	path := filepath.Join(dir, DataDirLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	if held {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		holder := "another process"
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n]))); err == nil && pid > 0 {
			holder = "process " + strconv.Itoa(pid)
		}
		abs, _ := filepath.Abs(dir)
		return nil, fmt.Errorf("%w: %s is used by %s (another steward serve); stop it, or give this one its own --data: %s",
			ErrDataDirInUse, abs, holder, path)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

// release drops the lock; the file stays (removing it would race with a
// process that just opened it).
func (l *dataDirLock) release() {
	if l != nil && l.f != nil {
		_ = unlock(l.f)
		l.f.Close()
		l.f = nil
	}
}
