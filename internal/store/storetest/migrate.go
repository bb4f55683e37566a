package storetest

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// confMigrations declares a typed table the way a later package would.
func confMigrations(extra ...store.Migration) store.MigrationSet {
	both := func(stmts ...string) map[store.Dialect][]string {
		return map[store.Dialect][]string{store.SQLite: stmts, store.Postgres: stmts}
	}
	return store.MigrationSet{Component: "storetest", Migrations: append([]store.Migration{
		{Version: 1, Name: "items table", SQL: both(`CREATE TABLE conf_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)},
		{Version: 2, Name: "seed row", SQL: both(`INSERT INTO conf_items (id, name) VALUES (1000, 'seed')`)},
	}, extra...)}
}

func applyConfSchema(t *testing.T, s store.Store) {
	t.Helper()
	set := confMigrations()
	set.Migrations = set.Migrations[:1]
	if err := s.Migrate(context.Background(), set); err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, s store.Store, table string) int {
	t.Helper()
	var n int
	if err := s.Raw().Read.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func appliedVersions(t *testing.T, s store.Store) int {
	t.Helper()
	var n int
	q := s.Raw().Dialect.Rebind(`SELECT count(*) FROM steward_migrations WHERE component = ?`)
	if err := s.Raw().Read.QueryRowContext(context.Background(), q, "storetest").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var migrateTests = []test{
	{"RerunningMigrateIsIdempotent", func(t *testing.T, s store.Store) {
		for range 3 {
			if err := s.Migrate(context.Background(), confMigrations()); err != nil {
				t.Fatal(err)
			}
		}
		if n := countRows(t, s, "conf_items"); n != 1 {
			t.Fatalf("seed applied %d times", n)
		}
		if n := appliedVersions(t, s); n != 2 {
			t.Fatalf("%d versions recorded, want 2", n)
		}
	}},
	{"ConcurrentMigrateAppliesOnce", func(t *testing.T, s store.Store) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { errs[i] = s.Migrate(context.Background(), confMigrations()) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := countRows(t, s, "conf_items"); n != 1 {
			t.Fatalf("seed applied %d times", n)
		}
	}},
	{"NewVersionIsAppliedAlone", func(t *testing.T, s store.Store) {
		if err := s.Migrate(context.Background(), confMigrations()); err != nil {
			t.Fatal(err)
		}
		both := map[store.Dialect][]string{
			store.SQLite:   {`INSERT INTO conf_items (id, name) VALUES (1001, 'v3')`},
			store.Postgres: {`INSERT INTO conf_items (id, name) VALUES (1001, 'v3')`},
		}
		if err := s.Migrate(context.Background(), confMigrations(store.Migration{Version: 3, Name: "v3", SQL: both})); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, s, "conf_items"); n != 2 {
			t.Fatalf("%d rows, want seed + v3", n)
		}
	}},
	{"FailedMigrationRollsBackAndIsNotRecorded", func(t *testing.T, s store.Store) {
		bad := map[store.Dialect][]string{
			store.SQLite:   {`INSERT INTO conf_items (id, name) VALUES (2000, 'partial')`, `THIS IS NOT SQL`},
			store.Postgres: {`INSERT INTO conf_items (id, name) VALUES (2000, 'partial')`, `THIS IS NOT SQL`},
		}
		err := s.Migrate(context.Background(), confMigrations(store.Migration{Version: 3, Name: "broken", SQL: bad}))
		if err == nil {
			t.Fatal("broken migration succeeded")
		}
		if n := countRows(t, s, "conf_items"); n != 1 {
			t.Fatalf("%d rows: the broken step was not rolled back", n)
		}
		if n := appliedVersions(t, s); n != 2 {
			t.Fatalf("%d versions recorded, want 2", n)
		}
	}},
	{"MigrationWithoutThisDialectIsInvalid", func(t *testing.T, s store.Store) {
		set := store.MigrationSet{Component: "storetest", Migrations: []store.Migration{
			{Version: 1, Name: "elsewhere", SQL: map[store.Dialect][]string{"oracle": {"SELECT 1"}}},
		}}
		wantErr(t, "migrate", s.Migrate(context.Background(), set), store.ErrInvalid)
	}},
	{"ReservedComponentIsInvalid", func(t *testing.T, s store.Store) {
		set := confMigrations()
		set.Component = "store"
		wantErr(t, "migrate", s.Migrate(context.Background(), set), store.ErrInvalid)
	}},
	{"DuplicateVersionsAreInvalid", func(t *testing.T, s store.Store) {
		set := confMigrations(store.Migration{Version: 2, Name: "again", Func: func(context.Context, *sql.Tx, store.Dialect) error { return nil }})
		wantErr(t, "migrate", s.Migrate(context.Background(), set), store.ErrInvalid)
	}},
}
