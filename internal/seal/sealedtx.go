package seal

import (
	"context"
	"database/sql"
	"errors"

	"github.com/steward-gov/steward/internal/store"
)

// Tx is a store transaction whose values are sealed by a Sealer on the way
// in and opened on the way out: the storage wrapper that keeps values
// encrypted at rest. Keys (table and record names) stay in clear, so object
// names are visible in the database; values (secret values, private keys,
// attributes, tags) are not.
type Tx struct {
	Tx store.Tx
	S  *Sealer
}

// Path is the storage path a record's value is sealed for: the additional
// data that binds a ciphertext to its table and key.
func Path(table, key string) string { return table + "/" + key }

// Get reads and opens one record.
func (t Tx) Get(ctx context.Context, table, key string) (store.Record, error) {
	r, err := t.Tx.Get(ctx, table, key)
	if err != nil {
		return r, err
	}
	r.Value, err = t.S.Open(ctx, Path(table, key), r.Value)
	return r, err
}

// Put seals and writes one record.
func (t Tx) Put(ctx context.Context, table, key string, value []byte, cond store.Cond) (store.Record, error) {
	sealed, err := t.S.Seal(Path(table, key), value)
	if err != nil {
		return store.Record{}, err
	}
	return t.Tx.Put(ctx, table, key, sealed, cond)
}

// Delete removes one record.
func (t Tx) Delete(ctx context.Context, table, key string, cond store.Cond) error {
	return t.Tx.Delete(ctx, table, key, cond)
}

// Scan reads a page and opens its values.
func (t Tx) Scan(ctx context.Context, table string, q store.Query) (store.Page, error) {
	p, err := t.Tx.Scan(ctx, table, q)
	if err != nil || q.KeysOnly {
		return p, err
	}
	for i := range p.Records {
		r := &p.Records[i]
		if r.Value, err = t.S.Open(ctx, Path(table, r.Key), r.Value); err != nil {
			return store.Page{}, err
		}
	}
	return p, nil
}

// IsSealed reports whether v has the shape of a sealed value (the version
// byte and room for header and tag). Steward stores JSON documents, which
// start with a printable byte, so a clear record is never mistaken for a
// sealed one.
func IsSealed(v []byte) bool { return len(v) >= sealOverhead && v[0] == sealVersion }

// SealClearRecords seals, in place, every record of table whose value is
// still in clear (written before the table was sealed), a page per
// transaction, and returns how many it sealed. It is idempotent, so every
// start may run it; replicas running it at once each write only records
// that are still clear inside their own transaction.
func (s *Sealer) SealClearRecords(ctx context.Context, st store.Store, table string) (int, error) {
	total := 0
	after := ""
	for {
		var next string
		n := 0
		err := st.Update(ctx, func(tx store.Tx) error {
			n = 0
			p, err := tx.Scan(ctx, table, store.Query{After: after, Limit: store.MaxPageSize})
			if err != nil {
				return err
			}
			next = p.Next
			for _, r := range p.Records {
				if IsSealed(r.Value) {
					continue
				}
				sealed, err := s.Seal(Path(table, r.Key), r.Value)
				if err != nil {
					return err
				}
				if _, err := tx.Put(ctx, table, r.Key, sealed, store.IfMatch(r.ETag)); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if errors.Is(err, store.ErrPrecondition) {
			continue // a replica changed the page; read it again
		}
		if err != nil {
			return total, err
		}
		total += n
		if next == "" {
			return total, nil
		}
		after = next
	}
}

// SQL returns the underlying SQL transaction; what is written through it
// is not sealed.
func (t Tx) SQL() *sql.Tx { return t.Tx.SQL() }

// Notify passes through: a notification carries only its channel's name.
func (t Tx) Notify(ctx context.Context, channel string) error { return t.Tx.Notify(ctx, channel) }

// NotifyPayload passes through: the payload is the caller's, not sealed.
func (t Tx) NotifyPayload(ctx context.Context, channel, payload string) error {
	return t.Tx.NotifyPayload(ctx, channel, payload)
}
