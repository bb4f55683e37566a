package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// appSet is a component's schema the way a package declares it.
func appSet(versions ...int) store.MigrationSet {
	set := store.MigrationSet{Component: "versiontest"}
	for _, v := range versions {
		stmt := []string{`CREATE TABLE versiontest_` + string(rune('a'+v)) + ` (id INTEGER PRIMARY KEY)`}
		set.Migrations = append(set.Migrations, store.Migration{Version: v, Name: "table " + string(rune('a'+v)),
			SQL: map[store.Dialect][]string{store.SQLite: stmt, store.Postgres: stmt}})
	}
	return set
}

func steps(ms []store.MigrationStep) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%d", m.Component, m.Version))
	}
	return out
}

// Pending, Applied and CheckSchema follow a database from empty to
// migrated, and CheckSchema refuses a database migrated by a newer
// program.
func TestSchemaVersions(t *testing.T) {
	for _, b := range storetest.URLBackends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			u := b.URL(t)
			open := func(opts ...store.Option) store.Store {
				t.Helper()
				s, err := store.Open(ctx, u, opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			v1 := appSet(1)
			v2 := appSet(1, 2)

			// WithoutMigrations leaves a fresh database empty.
			inspect := open(store.WithoutMigrations())
			if got, err := store.Applied(ctx, inspect); err != nil || len(got) != 0 {
				t.Fatalf("Applied on a fresh database = %v, %v; want none", got, err)
			}
			pending, err := store.Pending(ctx, inspect, store.Schema(), v2)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"store/1", "store/2", "versiontest/1", "versiontest/2"}; !slices.Equal(steps(pending), want) {
				t.Fatalf("Pending on a fresh database = %v, want %v", steps(pending), want)
			}
			if err := store.CheckSchema(ctx, inspect, store.Schema()); err != nil {
				t.Fatalf("CheckSchema on a fresh database: %v", err)
			}
			inspect.Close()

			// Open applies the store's schema; Migrate a component's.
			s := open()
			if err := s.Migrate(ctx, v1); err != nil {
				t.Fatal(err)
			}
			applied, err := store.Applied(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"store/1", "store/2", "versiontest/1"}; !slices.Equal(steps(applied), want) {
				t.Fatalf("Applied = %v, want %v", steps(applied), want)
			}
			if applied[2].Name != "table b" || applied[2].Applied.IsZero() {
				t.Errorf("applied step %+v: want its name and time", applied[2])
			}

			cases := []struct {
				name        string
				sets        []store.MigrationSet
				wantPending []string
				wantUnknown []string
			}{
				{"same program", []store.MigrationSet{store.Schema(), v1}, nil, nil},
				{"newer program", []store.MigrationSet{store.Schema(), v2}, []string{"versiontest/2"}, nil},
				{"older program", []store.MigrationSet{store.Schema(), appSet()}, nil, []string{"versiontest/1"}},
				{"component unknown here", []store.MigrationSet{store.Schema()}, nil, []string{"versiontest/1"}},
			}
			for _, c := range cases {
				pending, err := store.Pending(ctx, s, c.sets...)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(steps(pending), c.wantPending) {
					t.Errorf("%s: Pending = %v, want %v", c.name, steps(pending), c.wantPending)
				}
				err = store.CheckSchema(ctx, s, c.sets...)
				var tooNew *store.SchemaTooNewError
				switch {
				case c.wantUnknown == nil && err != nil:
					t.Errorf("%s: CheckSchema: %v", c.name, err)
				case c.wantUnknown != nil && !errors.As(err, &tooNew):
					t.Errorf("%s: CheckSchema = %v, want a SchemaTooNewError", c.name, err)
				case c.wantUnknown != nil && !slices.Equal(steps(tooNew.Unknown), c.wantUnknown):
					t.Errorf("%s: unknown steps %v, want %v", c.name, steps(tooNew.Unknown), c.wantUnknown)
				}
			}
		})
	}
}
