// Package atomicfile writes small state files (keys, certificates,
// bootstrap records) so that a reader, or the next start after a crash,
// finds either the old content or the new one, never a torn write.
//
// Both functions stage the data in a temporary file in the target's
// directory (a rename or link only stays atomic within one file system),
// set its mode, write and fsync it, and only then make it visible under
// the final name; the directory is synced afterwards so the new name
// survives a power loss. The temporary file is removed on every path.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path with permission bits perm, replacing any
// file already there in one rename.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	tmp, err := stage(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // fails harmlessly after a successful rename
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// Create writes data to path with permission bits perm only if nothing is
// there yet. The final step is a hard link, which, unlike a rename, fails
// when path exists: of two processes creating the same file at once, one
// wins and the other gets an error that matches fs.ErrExist (errors.Is)
// and leaves the winner's content in place.
func Create(path string, data []byte, perm fs.FileMode) error {
	tmp, err := stage(path, data, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// stage writes data to a new temporary file next to path, with mode perm,
// synced and closed, and returns its name. On error nothing is left behind.
func stage(path string, data []byte, perm fs.FileMode) (name string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	// Chmod on the open file, not the umask-filtered mode of a create, so
	// that perm is exactly what the caller asked for.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes a rename or link in dir durable. It is best effort: some
// file systems refuse to sync a directory, and the file itself is already
// complete, so a failure here is no reason to report the write as failed.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}
