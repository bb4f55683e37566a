package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/steward-gov/steward/internal/store"
)

// StoreRecords adapts a store.Store to [Records]: each call is one store
// transaction, and store errors are mapped onto ErrNotFound and ErrExists.
type StoreRecords struct {
	Store store.Store
}

// Get implements Records.
func (s StoreRecords) Get(ctx context.Context, table, key string) ([]byte, error) {
	var out []byte
	err := s.Store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, table, key)
		if err != nil {
			return err
		}
		out = rec.Value
		return nil
	})
	return out, mapStoreErr(err)
}

// Put implements Records.
func (s StoreRecords) Put(ctx context.Context, table, key string, value []byte) error {
	return mapStoreErr(s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, table, key, value, store.Cond{})
		return err
	}))
}

// Create implements Records.
func (s StoreRecords) Create(ctx context.Context, table, key string, value []byte) error {
	return mapStoreErr(s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, table, key, value, store.IfAbsent())
		return err
	}))
}

// CreateAll writes value at every key, IfAbsent, in one transaction: all
// are written or, when one key is taken, none (an error matching
// ErrExists).
func (s StoreRecords) CreateAll(ctx context.Context, table string, keys []string, value []byte) error {
	return mapStoreErr(s.Store.Update(ctx, func(tx store.Tx) error {
		for _, k := range keys {
			if _, err := tx.Put(ctx, table, k, value, store.IfAbsent()); err != nil {
				return err
			}
		}
		return nil
	}))
}

// List implements Records, reading every page of the prefix scan in one
// snapshot.
func (s StoreRecords) List(ctx context.Context, table, prefix string) ([][]byte, error) {
	var out [][]byte
	err := s.Store.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		q := store.Query{Prefix: prefix, Limit: store.MaxPageSize}
		for {
			page, err := tx.Scan(ctx, table, q)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				out = append(out, r.Value)
			}
			if page.Next == "" {
				return nil
			}
			q.After = page.Next
		}
	})
	return out, mapStoreErr(err)
}

// Delete implements Records.
func (s StoreRecords) Delete(ctx context.Context, table, key string) error {
	return mapStoreErr(s.Store.Update(ctx, func(tx store.Tx) error {
		return tx.Delete(ctx, table, key, store.Cond{})
	}))
}

// Modify implements Records in one store transaction (serializable: a
// conflicting write makes the store run fn again on the newer value). The
// write is also conditional on the etag read, or on the key's absence, so
// it fails (ErrPrecondition) rather than overwrite a write it did not see.
func (s StoreRecords) Modify(ctx context.Context, table, key string, fn ModifyFunc) error {
	return mapStoreErr(s.Store.Update(ctx, func(tx store.Tx) error {
		cond := store.IfAbsent()
		rec, err := tx.Get(ctx, table, key)
		if err == nil {
			cond = store.IfMatch(rec.ETag)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		next, del, err := fn(rec.Value, err == nil)
		switch {
		case err != nil:
			return err
		case del && !cond.IfAbsent:
			return tx.Delete(ctx, table, key, cond)
		case del:
			return nil
		}
		_, err = tx.Put(ctx, table, key, next, cond)
		return err
	}))
}

// DeleteBefore implements Records, a page of keys per transaction so a
// large backlog does not make one huge transaction.
func (s StoreRecords) DeleteBefore(ctx context.Context, table, end string) (int, error) {
	total := 0
	for {
		n := 0
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			n = 0
			page, err := tx.Scan(ctx, table, store.Query{End: end, KeysOnly: true, Limit: store.MaxPageSize})
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				if err := tx.Delete(ctx, table, r.Key, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				n++
			}
			return nil
		})
		total += n
		if err != nil || n < store.MaxPageSize {
			return total, mapStoreErr(err)
		}
	}
}

func mapStoreErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, store.ErrExists):
		return fmt.Errorf("%w: %w", ErrExists, err)
	}
	return err
}
