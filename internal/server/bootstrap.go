package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/store"
)

// ReadBootstrap returns the bootstrap record of cfg's data directory:
// DATA/bootstrap.json, or, when that file has been removed after first
// use, the sealed copy in the store (opened with the root key). It fails
// with fs.ErrNotExist when neither exists.
func ReadBootstrap(ctx context.Context, cfg Config, lookup func(string) (string, bool)) (identity.BootstrapInfo, error) {
	info, err := identity.ReadBootstrap(cfg.DataDir)
	if !errors.Is(err, fs.ErrNotExist) {
		return info, err
	}
	if cfg.StoreURL == "" {
		// Do not create a SQLite database where none is.
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "steward.db")); err != nil {
			return info, err
		}
	}
	st, err := store.Open(ctx, cfg.Store())
	if err != nil {
		return info, err
	}
	defer st.Close()
	sealer, _, err := seal.OpenForDataDir(ctx, st, cfg.KeySource(lookup), cfg.DataDir, rand.Reader)
	if err != nil {
		return info, fmt.Errorf("root key: %w", err)
	}
	defer sealer.Close()
	svc := identity.NewService(identity.StoreRecords{Store: st}, identity.Options{Sealer: sealer})
	info, err = svc.StoredBootstrap(ctx, cfg.DataDir)
	if errors.Is(err, identity.ErrNotFound) {
		return info, fmt.Errorf("%s has no %s and its store no bootstrap record: %w", cfg.DataDir, identity.BootstrapFile, fs.ErrNotExist)
	}
	return info, err
}
