package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

func TestOpenPicksTheBackendByScheme(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, url string
		want      store.Dialect
		wantErr   error
	}{
		{"sqlite scheme", "sqlite:" + filepath.Join(dir, "a.db"), store.SQLite, nil},
		{"sqlite URL", "sqlite://" + filepath.Join(dir, "b.db"), store.SQLite, nil},
		{"plain path", filepath.Join(dir, "sub", "c.db"), store.SQLite, nil},
		{"empty", "", "", store.ErrInvalid},
		{"unknown scheme", "mysql://localhost/x", "", store.ErrInvalid},
		{"query in path", filepath.Join(dir, "d.db?mode=memory"), "", store.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), c.url)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("got %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Raw().Dialect; got != c.want {
				t.Fatalf("dialect %s, want %s", got, c.want)
			}
		})
	}
}

func TestReopenKeepsDataAndDoesNotReapplyMigrations(t *testing.T) {
	for _, b := range storetest.URLBackends {
		t.Run(b.Name, func(t *testing.T) {
			u := b.URL(t)
			var etag string
			for round := range 3 {
				s, err := store.Open(context.Background(), u)
				if err != nil {
					t.Fatalf("open #%d: %v", round+1, err)
				}
				err = s.Update(context.Background(), func(tx store.Tx) error {
					if round == 0 {
						r, err := tx.Put(context.Background(), "t", "k", []byte("v"), store.IfAbsent())
						etag = r.ETag
						return err
					}
					r, err := tx.Get(context.Background(), "t", "k")
					if err == nil && r.ETag != etag {
						t.Errorf("etag %s after reopen, want %s", r.ETag, etag)
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				var n int
				if err := s.Raw().Read.QueryRow(`SELECT count(*) FROM steward_migrations WHERE component = 'store'`).Scan(&n); err != nil || n != len(store.Schema().Migrations) {
					t.Fatalf("store migrations recorded %d times (%v), want once each (%d)", n, err, len(store.Schema().Migrations))
				}
				s.Close()
			}
		})
	}
}

// TestConcurrentOpenMigratesOnce opens a fresh store from several pools at
// once, as replicas starting together would: every Open succeeds and the
// store's schema is applied once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	for _, b := range storetest.URLBackends {
		t.Run(b.Name, func(t *testing.T) {
			u := b.URL(t)
			stores := make([]store.Store, 4)
			errs := make([]error, len(stores))
			var wg sync.WaitGroup
			for i := range stores {
				wg.Go(func() { stores[i], errs[i] = store.Open(context.Background(), u) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("open #%d: %v", i, err)
				}
				defer stores[i].Close()
			}
			var n int
			if err := stores[0].Raw().Read.QueryRow(`SELECT count(*) FROM steward_migrations`).Scan(&n); err != nil || n != len(store.Schema().Migrations) {
				t.Fatalf("%d migration records (%v), want one per store migration (%d)", n, err, len(store.Schema().Migrations))
			}
		})
	}
}

func TestPostgresWithoutItsSchemaIsInvalid(t *testing.T) {
	u := storetest.PostgresURL(t)
	if strings.Contains(u, "?") {
		u += "&search_path=steward_no_such_schema"
	} else {
		u += "?search_path=steward_no_such_schema"
	}
	_, err := store.Open(context.Background(), u)
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
}

func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "steward.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.Put(context.Background(), "t", "k", []byte("secret"), store.Cond{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group or other access", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestClosedStoreRefusesWork(t *testing.T) {
	s := storetest.SQLite(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err := s.View(context.Background(), func(store.Tx) error { return nil })
	if !errors.Is(err, store.ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}
