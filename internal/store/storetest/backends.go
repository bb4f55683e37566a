package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// PostgresEnv names the environment variable with the URL of the
// PostgreSQL server that tests use; DefaultPostgresURL applies when it is
// unset.
const (
	PostgresEnv        = "STEWARD_TEST_POSTGRES"
	DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// SQLite opens a store in a fresh file under t.TempDir, closed when the
// test ends.
func SQLite(t testing.TB, opts ...store.Option) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "steward.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresURL returns the URL of the test server, or skips t when the
// server cannot be reached.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		u = DefaultPostgresURL
	}
	db, err := sql.Open("pgx", u)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		t.Skipf("PostgreSQL at %s (set %s) is not reachable, skipping: %v", redact(u), PostgresEnv, err)
	}
	return u
}

// PostgresSchema creates a schema of its own for one test on the test
// server and returns a URL whose search_path selects it; the schema is
// dropped, with everything in it, when the test ends. CI and developers
// share one database, so every store lives in a schema of its own.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	schema := "steward_test_" + hex.EncodeToString(rnd[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a store in a fresh schema of the test server (see
// PostgresSchema), or skips t when the server cannot be reached.
func Postgres(t testing.TB, opts ...store.Option) store.Store {
	t.Helper()
	u := PostgresSchema(t)
	s, err := store.Open(context.Background(), u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() }) // runs before the schema is dropped
	return s
}

// URLBackend names a backend and gives the URL of a fresh, empty store on
// it, for tests that open (and reopen) stores themselves.
type URLBackend struct {
	Name string
	URL  func(t testing.TB) string
}

// URLBackends are SQLite, in a file under t.TempDir, and PostgreSQL, in a
// schema of its own (see PostgresSchema; skipped when the server cannot be
// reached).
var URLBackends = []URLBackend{
	{"SQLite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "steward.db") }},
	{"Postgres", PostgresSchema},
}

// redact hides a password in a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
