// Package storetest is the conformance suite of store.Store: every backend
// runs [Run] and must pass all of it. It also opens throwaway stores for
// the tests of packages built on the store ([SQLite], [Postgres]).
package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// NewStore opens an empty store for one test and arranges, through
// t.Cleanup, for it to be closed and removed afterwards.
type NewStore func(t *testing.T) store.Store

// Run runs the conformance suite against the stores newStore opens. Each
// subtest gets a store of its own.
func Run(t *testing.T, newStore NewStore) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"CRUD", crudTests},
		{"Conditional", condTests},
		{"Scan", scanTests},
		{"Model", modelTests},
		{"Tx", txTests},
		{"Concurrency", concurrencyTests},
		{"Migrate", migrateTests},
		{"Lease", leaseTests},
		{"Lock", lockTests},
		{"Notify", notifyTests},
		{"Batch", batchTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, newStore(t))
				})
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// put writes one record in its own transaction and returns it.
func put(t *testing.T, s store.Store, table, key, value string, cond store.Cond) (store.Record, error) {
	t.Helper()
	var rec store.Record
	err := s.Update(context.Background(), func(tx store.Tx) error {
		var err error
		rec, err = tx.Put(context.Background(), table, key, []byte(value), cond)
		return err
	})
	return rec, err
}

func mustPut(t *testing.T, s store.Store, table, key, value string) store.Record {
	t.Helper()
	rec, err := put(t, s, table, key, value, store.Cond{})
	if err != nil {
		t.Fatalf("put %s/%s: %v", table, key, err)
	}
	return rec
}

// get reads one record in its own transaction.
func get(t *testing.T, s store.Store, table, key string) (store.Record, error) {
	t.Helper()
	var rec store.Record
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		rec, err = tx.Get(context.Background(), table, key)
		return err
	})
	return rec, err
}

func mustGet(t *testing.T, s store.Store, table, key string) store.Record {
	t.Helper()
	rec, err := get(t, s, table, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", table, key, err)
	}
	return rec
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// scanAll pages through a query with pageSize and returns the keys seen
// and the number of pages.
func scanAll(t *testing.T, s store.Store, table string, q store.Query) (keys []string, pages int) {
	t.Helper()
	for {
		var page store.Page
		err := s.View(context.Background(), func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(context.Background(), table, q)
			return err
		})
		if err != nil {
			t.Fatalf("scan %+v: %v", q, err)
		}
		pages++
		for _, r := range page.Records {
			keys = append(keys, r.Key)
		}
		if page.Next == "" {
			return keys, pages
		}
		if pages > 10000 {
			t.Fatal("scan does not end")
		}
		q.After = page.Next
	}
}
