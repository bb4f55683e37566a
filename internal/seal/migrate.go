package seal

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/steward-gov/steward/internal/store"
)

// OpenForDataDir opens the Sealer of a data directory's store with the
// root key from src, first moving the root key out of the data directory
// when an older Steward left it there (DATA/vault-root.key):
//
//   - with no key file at src's path and no key in the environment, the
//     old key becomes the key file (nothing is re-encrypted);
//   - otherwise the key ring is sealed under src's key and the old key's
//     copy of the ring is dropped.
//
// Either way the old file is removed last, so a crash in between leaves a
// data directory that the next start migrates again. moved reports that
// the old file was found and removed.
func OpenForDataDir(ctx context.Context, st store.Store, src KeySource, dataDir string, rnd io.Reader) (s *Sealer, moved bool, err error) {
	legacyPath := filepath.Join(dataDir, LegacyRootKeyFile)
	legacy, err := readKeyFile(legacyPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	defer clear(legacy)
	if legacy != nil {
		if _, env := src.FromEnv(); !env {
			path, err := src.Path()
			if err != nil {
				return nil, false, err
			}
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				k, err := installRootKey(path, base64.StdEncoding.EncodeToString(legacy))
				clear(k)
				if err != nil {
					return nil, false, err
				}
			}
		}
	}
	root, err := src.Load(rnd)
	if err != nil {
		return nil, false, err
	}
	defer clear(root)
	s, err = OpenSealer(ctx, st, root, rnd)
	if errors.Is(err, ErrWrongRootKey) && legacy != nil {
		if err := reseal(ctx, st, legacy, root, rnd); err != nil {
			return nil, false, fmt.Errorf("seal: moving the root key out of %s: %w", dataDir, err)
		}
		s, err = OpenSealer(ctx, st, root, rnd)
	}
	if err != nil || legacy == nil {
		return s, false, err
	}
	if !bytes.Equal(legacy, root) {
		if err := s.dropRoot(ctx, legacy); err != nil {
			s.Close()
			return nil, false, err
		}
	}
	if err := os.Remove(legacyPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Close()
		return nil, false, err
	}
	return s, true, nil
}

// reseal seals the key ring, which opens under old, under next as well.
func reseal(ctx context.Context, st store.Store, old, next []byte, rnd io.Reader) error {
	s, err := OpenSealer(ctx, st, old, rnd)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.RotateRoot(ctx, next)
}

// dropRoot removes the copy of the key ring sealed under key, unless key
// is this Sealer's own root key.
func (s *Sealer) dropRoot(ctx context.Context, key []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := rootFingerprint(key)
	if fp == rootFingerprint(s.root) {
		return nil
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		rec, ok, err := readRing(ctx, tx)
		if err != nil || !ok {
			return err
		}
		if _, found := rec.Roots[fp]; !found {
			return nil
		}
		delete(rec.Roots, fp)
		return writeRing(ctx, tx, rec, store.Cond{})
	})
}
