package cloud

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Replicas sharing a database learn of each other's access changes through
// a generation counter: every committed write of a document that feeds
// rbac's engine bumps it in the same transaction and sends a store
// notification, and a replica that finds the counter ahead of what it has
// applied rebuilds its engine from the store. It looks when notified, and
// at the latest once per rbacRefreshInterval (a notification lost with a
// database session), so another replica's grant or revocation takes effect
// here within milliseconds; on the replica that made the write, at once.
const (
	tableMeta           = "cloud.meta"
	rbacGenerationKey   = "rbac-generation"
	rbacRefreshInterval = generationPoll
	rbacChannel         = "rbac"
)

type rbacSync struct {
	mu      sync.Mutex
	applied int64 // the generation the engine reflects
	checked time.Time
	// notified is set when another replica (or this one) committed an
	// access change: the next request looks at once.
	notified atomic.Bool
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

// bumpRBACGeneration increments the counter inside tx, notifies the other
// replicas at commit, and returns the new value.
func bumpRBACGeneration(ctx context.Context, tx store.Tx) (int64, error) {
	n, err := bumpCounter(ctx, tx, rbacGenerationKey)
	if err != nil {
		return 0, err
	}
	return n, tx.Notify(ctx, rbacChannel)
}

// readRBACGeneration reads the counter (0 before any write).
func (c *Cloud) readRBACGeneration(ctx context.Context) (int64, error) {
	return c.readCounter(ctx, rbacGenerationKey)
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
	if !c.sync.notified.Swap(false) && now.Sub(c.sync.checked) < rbacRefreshInterval && !c.sync.checked.IsZero() {
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
