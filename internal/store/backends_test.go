package store_test

import (
	"path/filepath"
	"testing"

	"github.com/steward-gov/steward/internal/store/storetest"
)

// urlBackends give, per backend, the URL of a fresh empty store for tests
// that open (and reopen) stores themselves.
var urlBackends = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"SQLite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "steward.db") }},
	{"Postgres", func(t *testing.T) string { return storetest.PostgresSchema(t) }},
}
