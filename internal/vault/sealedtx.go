package vault

import (
	"context"

	"github.com/steward-gov/steward/internal/store"
)

// sealedTx is a store transaction whose values are sealed by a Sealer on
// the way in and opened on the way out: the storage wrapper that keeps
// every vault value encrypted at rest. Keys (table and record names) stay
// in clear, so object names are visible in the database; values (secret
// values, private keys, attributes, tags) are not.
type sealedTx struct {
	tx store.Tx
	s  *Sealer
}

func sealPath(table, key string) string { return table + "/" + key }

// Get reads and opens one record.
func (t sealedTx) Get(ctx context.Context, table, key string) (store.Record, error) {
	r, err := t.tx.Get(ctx, table, key)
	if err != nil {
		return r, err
	}
	r.Value, err = t.s.Open(ctx, sealPath(table, key), r.Value)
	return r, err
}

// Put seals and writes one record.
func (t sealedTx) Put(ctx context.Context, table, key string, value []byte, cond store.Cond) (store.Record, error) {
	sealed, err := t.s.Seal(sealPath(table, key), value)
	if err != nil {
		return store.Record{}, err
	}
	return t.tx.Put(ctx, table, key, sealed, cond)
}

// Delete removes one record.
func (t sealedTx) Delete(ctx context.Context, table, key string, cond store.Cond) error {
	return t.tx.Delete(ctx, table, key, cond)
}

// Scan reads a page and opens its values.
func (t sealedTx) Scan(ctx context.Context, table string, q store.Query) (store.Page, error) {
	p, err := t.tx.Scan(ctx, table, q)
	if err != nil || q.KeysOnly {
		return p, err
	}
	for i := range p.Records {
		r := &p.Records[i]
		if r.Value, err = t.s.Open(ctx, sealPath(table, r.Key), r.Value); err != nil {
			return store.Page{}, err
		}
	}
	return p, nil
}
