package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

func openTestStore(t *testing.T) (store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dir
}

func testRoot(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestBarrierRejectsTamperingAndMovedValues(t *testing.T) {
	st, _ := openTestStore(t)
	s, err := OpenSealer(context.Background(), st, testRoot(1), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sealed, err := s.Seal("vault.items/a", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	flipped := append([]byte(nil), sealed...)
	flipped[len(flipped)-1] ^= 1
	badVersion := append([]byte(nil), sealed...)
	badVersion[0] = 0x7f
	cases := []struct {
		name   string
		path   string
		sealed []byte
		ok     bool
	}{
		{"same path opens", "vault.items/a", sealed, true},
		{"another path fails", "vault.items/b", sealed, false},
		{"flipped tag bit fails", "vault.items/a", flipped, false},
		{"unknown version byte fails", "vault.items/a", badVersion, false},
		{"truncated fails", "vault.items/a", sealed[:10], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Open(context.Background(), c.path, c.sealed)
			if c.ok && (err != nil || string(got) != "hunter2") {
				t.Fatalf("Open = %q, %v", got, err)
			}
			if !c.ok && !errors.Is(err, ErrSealed) {
				t.Fatalf("Open err = %v, want ErrSealed", err)
			}
		})
	}
}

func TestRootRotationKeepsDataAndAcceptsBothKeysUntilRetired(t *testing.T) {
	ctx := context.Background()
	st, _ := openTestStore(t)
	s, err := OpenSealer(ctx, st, testRoot(1), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := s.Seal("p", []byte("v"))
	if err := s.RotateRoot(ctx, testRoot(2)); err != nil {
		t.Fatal(err)
	}
	// A replica still on the old key starts; so does one on the new key.
	for _, root := range [][]byte{testRoot(1), testRoot(2)} {
		r, err := OpenSealer(ctx, st, root, rand.Reader)
		if err != nil {
			t.Fatalf("open with root %x: %v", root[0], err)
		}
		if got, err := r.Open(ctx, "p", sealed); err != nil || string(got) != "v" {
			t.Fatalf("root %x: Open = %q, %v", root[0], got, err)
		}
		r.Close()
	}
	if err := s.RetireOtherRoots(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSealer(ctx, st, testRoot(1), rand.Reader); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("old root after retire: err = %v, want ErrWrongRootKey", err)
	}
	if _, err := OpenSealer(ctx, st, testRoot(3), rand.Reader); !errors.Is(err, ErrWrongRootKey) {
		t.Fatalf("unknown root: err = %v, want ErrWrongRootKey", err)
	}
}

func TestKEKRotationIsPickedUpByOtherReplicas(t *testing.T) {
	ctx := context.Background()
	st, _ := openTestStore(t)
	a, _ := OpenSealer(ctx, st, testRoot(1), rand.Reader)
	b, _ := OpenSealer(ctx, st, testRoot(1), rand.Reader)
	old, _ := a.Seal("p", []byte("old"))
	term, err := a.RotateKEK(ctx)
	if err != nil || term != 2 {
		t.Fatalf("RotateKEK = %d, %v", term, err)
	}
	fresh, _ := a.Seal("p", []byte("new"))
	if termOf(fresh) != 2 {
		t.Fatalf("new value sealed under term %d", termOf(fresh))
	}
	for _, c := range []struct {
		sealed []byte
		want   string
	}{{old, "old"}, {fresh, "new"}} {
		if got, err := b.Open(ctx, "p", c.sealed); err != nil || string(got) != c.want {
			t.Fatalf("replica Open = %q, %v; want %q", got, err, c.want)
		}
	}
}

func TestLoadRootKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "conf", "root.key")
	src := KeySource{File: path}
	k1, err := src.Load(rand.Reader)
	if err != nil || len(k1) != 32 {
		t.Fatalf("first load: %d bytes, %v", len(k1), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v", fi.Mode().Perm(), err)
	}
	k2, _ := src.Load(rand.Reader)
	if !bytes.Equal(k1, k2) {
		t.Fatal("second load returned another key")
	}
	_, text, _ := NewRootKey(rand.Reader)
	env := func(name, v string) KeySource {
		return KeySource{File: path, Lookup: func(n string) (string, bool) { return v, n == name }}
	}
	for _, name := range []string{RootKeyEnv, LegacyRootKeyEnv} {
		if k, err := env(name, text).Load(rand.Reader); err != nil || bytes.Equal(k, k1) {
			t.Fatalf("%s not preferred: %v", name, err)
		}
	}
	for _, bad := range []string{"not base64!", "c2hvcnQ="} {
		if _, err := env(RootKeyEnv, bad).Load(rand.Reader); err == nil {
			t.Fatalf("env %q accepted", bad)
		}
	}
	os.Chmod(path, 0o644)
	if _, err := src.Load(rand.Reader); err == nil {
		t.Fatal("world-readable key file accepted")
	}
}

func TestConcurrentFirstStartsShareOneKeyRing(t *testing.T) {
	ctx := context.Background()
	st, _ := openTestStore(t)
	const n = 4
	sealers := make([]*Sealer, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			s, err := OpenSealer(ctx, st, testRoot(9), rand.Reader)
			sealers[i] = s
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	sealed, _ := sealers[0].Seal("p", []byte("shared"))
	for i, s := range sealers {
		if got, err := s.Open(ctx, "p", sealed); err != nil || string(got) != "shared" {
			t.Fatalf("sealer %d cannot open sealer 0's value: %v", i, err)
		}
	}
}
