package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// write is the signature both WriteFile and Create share.
type write func(path string, data []byte, perm fs.FileMode) error

func TestWritesContentAndExactMode(t *testing.T) {
	// 0o644 and 0o600 are what callers use; 0o640 checks that the umask
	// (commonly 022 or 077) does not change the mode asked for.
	for _, tc := range []struct {
		name string
		fn   write
		perm fs.FileMode
	}{
		{"WriteFile 0600", WriteFile, 0o600},
		{"WriteFile 0644", WriteFile, 0o644},
		{"WriteFile 0640", WriteFile, 0o640},
		{"Create 0600", Create, 0o600},
		{"Create 0644", Create, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			want := []byte("{\"a\":1}\n")
			if err := tc.fn(path, want, tc.perm); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("content = %q, want %q", got, want)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != tc.perm {
				t.Errorf("mode = %v, want %v", st.Mode().Perm(), tc.perm)
			}
			assertOnly(t, dir, "state.json")
		})
	}
}

func TestWriteFileReplacesExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, []byte("old content, longer than the new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new" {
		t.Errorf("content = %q, want %q", got, "new")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want the new file's 0600", st.Mode().Perm())
	}
	assertOnly(t, dir, "ca.pem")
}

func TestCreateKeepsExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	if err := os.WriteFile(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Create(path, []byte("second"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over an existing file: err = %v, want fs.ErrExist", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "first" {
		t.Errorf("content = %q, want the first writer's %q", got, "first")
	}
	assertOnly(t, dir, "root.key")
}

func TestConcurrentCreatesAgreeOnOneWinner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Create(path, []byte{byte('a' + i)}, 0o600)
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both created the file", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer created the file")
	}
	got, _ := os.ReadFile(path)
	if string(got) != string([]byte{byte('a' + winner)}) {
		t.Errorf("content = %q, want the winner's %q", got, byte('a'+winner))
	}
	assertOnly(t, dir, "root.key")
}

func TestFailureLeavesNoTemporaryFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   write
	}{{"WriteFile", WriteFile}, {"Create", Create}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// A directory in the way: the temp file is written, the final
			// rename or link fails.
			path := filepath.Join(dir, "busy")
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tc.fn(path, []byte("data"), 0o600); err == nil {
				t.Fatal("writing over a non-empty directory succeeded")
			}
			assertOnly(t, dir, "busy")
		})
	}
}

func TestMissingDirectoryIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "f")
	for _, fn := range []write{WriteFile, Create} {
		if err := fn(path, []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	}
}

// assertOnly fails unless dir holds exactly the named entries: no
// temporary file may outlive a write.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("directory holds %v, want %v", got, names)
		}
	}
}
