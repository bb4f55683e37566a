package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

var errAbort = errors.New("storetest: abort")

var txTests = []test{
	{"ErrorRollsBackEveryWrite", func(t *testing.T, s store.Store) {
		mustPut(t, s, "t", "kept", "before")
		err := s.Update(context.Background(), func(tx store.Tx) error {
			ctx := context.Background()
			if _, err := tx.Put(ctx, "t", "new", []byte("x"), store.Cond{}); err != nil {
				return err
			}
			if _, err := tx.Put(ctx, "t", "kept", []byte("after"), store.Cond{}); err != nil {
				return err
			}
			if err := tx.Delete(ctx, "t", "kept", store.Cond{}); err != nil {
				return err
			}
			return errAbort
		})
		wantErr(t, "update", err, errAbort)
		_, err = get(t, s, "t", "new")
		wantErr(t, "rolled-back create", err, store.ErrNotFound)
		if v := string(mustGet(t, s, "t", "kept").Value); v != "before" {
			t.Fatalf("kept = %q after rollback", v)
		}
	}},
	{"PanicRollsBackAndPropagates", func(t *testing.T, s store.Store) {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic swallowed")
				}
			}()
			_ = s.Update(context.Background(), func(tx store.Tx) error {
				if _, err := tx.Put(context.Background(), "t", "p", []byte("x"), store.Cond{}); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		_, err := get(t, s, "t", "p")
		wantErr(t, "write before panic", err, store.ErrNotFound)
		mustPut(t, s, "t", "after", "store still usable")
	}},
	{"TransactionReadsItsOwnWrites", func(t *testing.T, s store.Store) {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			ctx := context.Background()
			w, err := tx.Put(ctx, "t", "a", []byte("1"), store.Cond{})
			if err != nil {
				return err
			}
			r, err := tx.Get(ctx, "t", "a")
			if err != nil || r.ETag != w.ETag {
				t.Fatalf("get own write: %+v %v", r, err)
			}
			page, err := tx.Scan(ctx, "t", store.Query{})
			if err != nil || len(page.Records) != 1 {
				t.Fatalf("scan own write: %+v %v", page, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"ViewRejectsWrites", func(t *testing.T, s store.Store) {
		mustPut(t, s, "t", "a", "1")
		err := s.View(context.Background(), func(tx store.Tx) error {
			_, err := tx.Put(context.Background(), "t", "b", []byte("1"), store.Cond{})
			return err
		})
		wantErr(t, "put in view", err, store.ErrReadOnly)
		err = s.View(context.Background(), func(tx store.Tx) error {
			return tx.Delete(context.Background(), "t", "a", store.Cond{})
		})
		wantErr(t, "delete in view", err, store.ErrReadOnly)
	}},
	{"TxIsDeadAfterItsFunctionReturns", func(t *testing.T, s store.Store) {
		var leaked store.Tx
		if err := s.View(context.Background(), func(tx store.Tx) error { leaked = tx; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := leaked.Get(context.Background(), "t", "a"); err == nil {
			t.Fatal("Get on a finished transaction succeeded")
		}
	}},
	{"CancelledContextBeforeCommitWritesNothing", func(t *testing.T, s store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put(ctx, "t", "a", []byte("1"), store.Cond{}); err != nil {
				return err
			}
			cancel()
			return nil
		})
		wantErr(t, "update cancelled before commit", err, context.Canceled)
		_, err = get(t, s, "t", "a")
		wantErr(t, "write of cancelled tx", err, store.ErrNotFound)
	}},
	{"CancelledContextFailsTheNextCall", func(t *testing.T, s store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		err := s.Update(ctx, func(tx store.Tx) error {
			cancel()
			_, err := tx.Put(ctx, "t", "a", []byte("1"), store.Cond{})
			return err
		})
		wantErr(t, "put after cancel", err, context.Canceled)
		err = s.View(ctx, func(tx store.Tx) error { return nil })
		if err == nil {
			t.Fatal("View with a cancelled context succeeded")
		}
	}},
	{"TxSQLSharesTheTransaction", func(t *testing.T, s store.Store) {
		applyConfSchema(t, s)
		d := s.Raw().Dialect
		err := s.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.SQL().ExecContext(context.Background(), d.Rebind(`INSERT INTO conf_items (id, name) VALUES (?, ?)`), 7, "x"); err != nil {
				return err
			}
			if _, err := tx.Put(context.Background(), "t", "a", []byte("1"), store.Cond{}); err != nil {
				return err
			}
			return errAbort
		})
		wantErr(t, "update", err, errAbort)
		if n := countRows(t, s, "conf_items"); n != 0 {
			t.Fatalf("typed-table row survived rollback: %d rows", n)
		}
	}},
}
