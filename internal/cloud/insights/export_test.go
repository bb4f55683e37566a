package insights

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/steward-gov/steward/internal/store"
)

// ErrNotCached is CacheMatchesStore's error for a scope the cache does
// not hold.
var ErrNotCached = errors.New("the cache does not hold the scope")

// ScopeReads is how many times queries have read a scope's states from
// the store to cache them.
func (e *Engine) ScopeReads() uint64 { return e.cache.scopeReads.Load() }

// CacheMatchesStore compares the cached states under prefix, state by
// state and field by field, with the store's as a fresh read decodes
// them; it fails when the cache does not hold the scope.
func (e *Engine) CacheMatchesStore(ctx context.Context, prefix string) error {
	keys, states, ok := e.cache.lookup(prefix)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotCached, prefix)
	}
	i := 0
	q := store.Query{Prefix: prefix, Limit: store.MaxPageSize}
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(ctx, tableStates, q)
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			want, err := decodeLite(r.Key, r.Value, interner{})
			if err != nil {
				return err
			}
			if i >= len(keys) || keys[i] != r.Key {
				return fmt.Errorf("the store holds %s, the cache %v at %d", r.Key, keys[min(i, len(keys)-1):min(i+1, len(keys))], i)
			}
			if !reflect.DeepEqual(states[i], want) {
				return fmt.Errorf("%s: cached %+v, stored %+v", r.Key, *states[i], *want)
			}
			i++
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if i != len(keys) {
		return fmt.Errorf("the cache holds %d states under %s, the store %d (%s first extra)", len(keys), prefix, i, keys[i])
	}
	return nil
}

// SetAfterStatesCommit sets a function run between each state write's
// commit and its update of the cache, until the test ends.
func SetAfterStatesCommit(t testing.TB, f func()) {
	afterStatesCommit = f
	t.Cleanup(func() { afterStatesCommit = nil })
}

// Reload recompiles the policies from the store, as a policy change's hook
// does before it queues the scans.
func (e *Engine) Reload(ctx context.Context) error {
	_, err := e.reload(ctx)
	return err
}
