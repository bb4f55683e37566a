package cloud

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Replicas sharing a database learn of each other's access changes through
// a generation counter: every committed write of a document that feeds
// rbac's engine bumps it in the same transaction, and a replica that finds
// the counter ahead of what it has applied rebuilds its engine from the
// store. It looks at most once per rbacRefreshInterval, so another
// replica's grant or revocation takes effect here within that time; on the
// replica that made the write it takes effect at once.
const (
	tableMeta           = "cloud.meta"
	rbacGenerationKey   = "rbac-generation"
	rbacRefreshInterval = 2 * time.Second
)

type rbacSync struct {
	mu      sync.Mutex
	applied int64 // the generation the engine reflects
	checked time.Time
}

// feedsRBAC reports whether documents of typ change access decisions.
func feedsRBAC(typ string) bool {
	switch typeKey(typ) {
	case typeKey(TypeRoleAssignment), typeKey(TypeRoleDefinition), typeKey(TypeDenyAssignment),
		typeKey(TypeManagementGroup), typeKey(TypeMGSubscription):
		return true
	}
	return false
}

// bumpRBACGeneration increments the counter inside tx and returns the new
// value.
func bumpRBACGeneration(ctx context.Context, tx store.Tx) (int64, error) {
	var n int64
	rec, err := tx.Get(ctx, tableMeta, rbacGenerationKey)
	switch {
	case err == nil:
		n, _ = strconv.ParseInt(string(rec.Value), 10, 64)
	case !errors.Is(err, store.ErrNotFound):
		return 0, err
	}
	n++
	_, err = tx.Put(ctx, tableMeta, rbacGenerationKey, []byte(strconv.FormatInt(n, 10)), store.Cond{})
	return n, err
}

// readRBACGeneration reads the counter (0 before any write).
func (c *Cloud) readRBACGeneration(ctx context.Context) (int64, error) {
	var n int64
	err := c.store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableMeta, rbacGenerationKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		n, _ = strconv.ParseInt(string(rec.Value), 10, 64)
		return nil
	})
	return n, err
}

// noteApplied records that the engine reflects generation n (a local
// write that was applied after commit).
func (c *Cloud) noteApplied(n int64) {
	c.sync.mu.Lock()
	defer c.sync.mu.Unlock()
	if n == c.sync.applied+1 {
		c.sync.applied = n
	}
}

// refreshRBAC rebuilds the engine when another replica changed access
// since the last look, at most once per interval.
func (c *Cloud) refreshRBAC(ctx context.Context) {
	c.sync.mu.Lock()
	defer c.sync.mu.Unlock()
	now := c.now()
	if now.Sub(c.sync.checked) < rbacRefreshInterval && !c.sync.checked.IsZero() {
		return
	}
	c.sync.checked = now
	n, err := c.readRBACGeneration(ctx)
	if err != nil || n == c.sync.applied {
		return
	}
	if err := c.reloadRBAC(ctx); err != nil {
		c.log.Error("rbac refresh failed", "err", err)
		return
	}
	c.sync.applied = n
}
