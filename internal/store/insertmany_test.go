package store_test

import (
	"context"
	"testing"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// TestInsertManyAfterAConcurrentInsertIsRetried: on PostgreSQL, a
// transaction that read a range, found a key absent and inserts it while
// another transaction inserted the same key meanwhile fails as a
// serialization conflict, which Update runs again; the second attempt
// sees the key and writes over it.
func TestInsertManyAfterAConcurrentInsertIsRetried(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	attempts := 0
	err = s.Update(ctx, func(tx store.Tx) error {
		attempts++
		page, err := tx.Scan(ctx, "things", store.Query{Prefix: "k", Limit: 10})
		if err != nil {
			return err
		}
		if len(page.Records) > 0 { // the retry: the other insert is visible
			return store.PutMany(ctx, tx, "things", []store.Entry{{Key: "k1", Value: []byte("mine")}})
		}
		if attempts == 1 {
			err := s.Update(ctx, func(other store.Tx) error {
				return store.PutMany(ctx, other, "things", []store.Entry{{Key: "k1", Value: []byte("theirs")}})
			})
			if err != nil {
				return err
			}
		}
		return store.InsertMany(ctx, tx, "things", []store.Entry{{Key: "k1", Value: []byte("mine")}})
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if attempts != 2 {
		t.Errorf("%d attempts, want 2 (the conflict retried once)", attempts)
	}
	var got []store.Record
	if err := s.View(ctx, func(tx store.Tx) error {
		var err error
		got, err = store.GetMany(ctx, tx, "things", []string{"k1"})
		return err
	}); err != nil || len(got) != 1 || string(got[0].Value) != "mine" {
		t.Errorf("k1 = %+v (%v), want the retried write", got, err)
	}
}
