package insights

import (
	"context"
	"errors"
	"strings"

	"github.com/steward-gov/steward/internal/store"
)

// batchItem is the new set of states of one resource.
type batchItem struct {
	id     string
	states []*State
}

// writeStates replaces the states of each resource in the batch with its
// new ones, in one transaction: states of assignments that no longer apply
// are removed.
func (e *Engine) writeStates(ctx context.Context, batch []batchItem) error {
	enc := make([][][]byte, len(batch))
	for i, it := range batch {
		enc[i] = make([][]byte, len(it.states))
		for j, s := range it.states {
			b, err := s.encode()
			if err != nil {
				return err
			}
			enc[i][j] = b
		}
	}
	return e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		keep := make(map[string]bool)
		for i, it := range batch {
			for j, s := range it.states {
				k := s.key()
				keep[k] = true
				if _, err := tx.Put(ctx, tableStates, k, enc[i][j], store.Cond{}); err != nil {
					return err
				}
			}
		}
		if len(batch) < rangeSweepMin {
			for _, it := range batch {
				if err := deletePrefix(ctx, tx, resourcePrefix(it.id), keep); err != nil {
					return err
				}
			}
			return nil
		}
		return deleteStale(ctx, tx, batch, keep)
	})
}

// rangeSweepMin is the batch size from which stale states are found with
// one range scan over the batch's keys rather than one scan per resource.
const rangeSweepMin = 8

// deleteStale removes the states of the batch's resources that keep does
// not hold, reading the key range from the lowest to the highest resource
// of the batch once (a scan page is contiguous in key order, so the range
// holds little else).
func deleteStale(ctx context.Context, tx store.Tx, batch []batchItem, keep map[string]bool) error {
	ids := make(map[string]bool, len(batch))
	lo, hi := "", ""
	for i, it := range batch {
		p := resourcePrefix(it.id)
		ids[p] = true
		if i == 0 || p < lo {
			lo = p
		}
		if p > hi {
			hi = p
		}
	}
	q := store.Query{Start: lo, End: hi + "\U0010FFFF", KeysOnly: true, Limit: store.MaxPageSize}
	for {
		page, err := tx.Scan(ctx, tableStates, q)
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			if keep[r.Key] || !ids[r.Key[:strings.IndexByte(r.Key, '|')+1]] {
				continue
			}
			if err := tx.Delete(ctx, tableStates, r.Key, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
	}
}

// deleteStates removes every state of a resource and of what sits below
// it (a deleted resource group's resources).
func (e *Engine) deleteStates(ctx context.Context, id string) error {
	return e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		if err := deletePrefix(ctx, tx, resourcePrefix(id), nil); err != nil {
			return err
		}
		return deletePrefix(ctx, tx, scopePrefix(id), nil)
	})
}

// deletePrefix deletes the state keys with prefix that keep does not
// hold.
func deletePrefix(ctx context.Context, tx store.Tx, prefix string, keep map[string]bool) error {
	if prefix == "" || prefix == "|" {
		return nil
	}
	after := ""
	for {
		page, err := tx.Scan(ctx, tableStates, store.Query{Prefix: prefix, KeysOnly: true, Limit: store.MaxPageSize, After: after})
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			if keep[r.Key] {
				continue
			}
			if err := tx.Delete(ctx, tableStates, r.Key, store.Cond{}); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// scanStates calls fn with the states whose keys start with prefix, in key
// order, from the key start on (inclusive; "" for the first). fn returns
// false to stop before the state it was given; scanStates then returns
// that state's key, where a later scan resumes ("" when none is left).
func (e *Engine) scanStates(ctx context.Context, prefix, start string, fn func(s *State) bool) (string, error) {
	after := ""
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(ctx, tableStates, store.Query{Prefix: prefix, Start: start, Limit: store.MaxPageSize, After: after})
			return err
		})
		if err != nil {
			return "", err
		}
		for _, r := range page.Records {
			s, err := decodeState(r.Value)
			if err != nil {
				e.log.Warn("undecodable policy state skipped", "key", r.Key, "err", err)
				continue
			}
			if !fn(s) {
				return r.Key, nil
			}
		}
		if page.Next == "" {
			return "", nil
		}
		after = page.Next
	}
}
