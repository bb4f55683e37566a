package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenForDataDirMovesTheLegacyKeyOut starts from a data directory an
// older Steward left (the key ring sealed under DATA/vault-root.key) and
// checks that, wherever the root key now comes from, values sealed before
// still open, the old file is gone, and the old key no longer opens the
// ring.
func TestOpenForDataDirMovesTheLegacyKeyOut(t *testing.T) {
	ctx := context.Background()
	legacyKey := testRoot(7)
	other := testRoot(8)
	cases := []struct {
		name     string
		keyFile  []byte // existing key file content, nil for none
		env      []byte // STEWARD_ROOT_KEY, nil for unset
		wantRoot []byte
	}{
		{"no key file: the old key becomes the key file", nil, nil, legacyKey},
		{"a key file exists: the ring is resealed under it", other, nil, other},
		{"the key is in the environment: the ring is resealed under it", nil, other, other},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, dataDir := openTestStore(t)
			old, err := OpenSealer(ctx, st, legacyKey, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			sealed, _ := old.Seal("t/k", []byte("before"))
			old.Close()
			if err := os.WriteFile(filepath.Join(dataDir, LegacyRootKeyFile), []byte(base64.StdEncoding.EncodeToString(legacyKey)), 0o600); err != nil {
				t.Fatal(err)
			}
			src := KeySource{File: filepath.Join(t.TempDir(), "root.key")}
			if c.keyFile != nil {
				if err := os.WriteFile(src.File, []byte(base64.StdEncoding.EncodeToString(c.keyFile)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if c.env != nil {
				src.Lookup = func(n string) (string, bool) { return base64.StdEncoding.EncodeToString(c.env), n == RootKeyEnv }
			}
			s, moved, err := OpenForDataDir(ctx, st, src, dataDir, rand.Reader)
			if err != nil || !moved {
				t.Fatalf("OpenForDataDir: moved=%v err=%v", moved, err)
			}
			defer s.Close()
			if got, err := s.Open(ctx, "t/k", sealed); err != nil || string(got) != "before" {
				t.Fatalf("value sealed before the move: %q, %v", got, err)
			}
			if _, err := os.Stat(filepath.Join(dataDir, LegacyRootKeyFile)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("legacy key file still there: %v", err)
			}
			if c.env == nil {
				k, err := readKeyFile(src.File)
				if err != nil || !bytes.Equal(k, c.wantRoot) {
					t.Fatalf("key file holds another key: %v", err)
				}
			}
			if !bytes.Equal(c.wantRoot, legacyKey) {
				if _, err := OpenSealer(ctx, st, legacyKey, rand.Reader); !errors.Is(err, ErrWrongRootKey) {
					t.Fatalf("old key still opens the ring: %v", err)
				}
			}
			// A second start finds nothing to move.
			s2, moved, err := OpenForDataDir(ctx, st, src, dataDir, rand.Reader)
			if err != nil || moved {
				t.Fatalf("second start: moved=%v err=%v", moved, err)
			}
			s2.Close()
		})
	}
}

func TestKeyFileFallsBackWhenThereIsNoConfigDirectory(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	fallback := filepath.Join(t.TempDir(), ".data-root.key")
	src := KeySource{Fallback: fallback}
	if p, err := src.Path(); err != nil || p != fallback {
		t.Fatalf("Path = %q, %v; want the fallback", p, err)
	}
	if _, err := src.Load(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fallback); err != nil {
		t.Fatalf("no key file at the fallback: %v", err)
	}
	if _, err := (KeySource{}).Path(); err == nil {
		t.Fatal("no configuration directory and no fallback, yet a path")
	}
}
