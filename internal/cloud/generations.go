package cloud

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Caches shared across replicas.
//
// A cache built from documents of some types (the compiled policy
// assignments, rbac's engine) must learn of writes that another replica
// committed. Each such set of types has a generation: a counter in the
// store that every committed write or delete of one of its types
// increments in the same transaction, and a store notification (LISTEN/
// NOTIFY on PostgreSQL) sent with that commit. A replica reads the counter
// when notified, and at the latest generationPoll after its last look (in
// case a notification was lost with a database session), and rebuilds when
// the counter moved.

// generationPoll is the fallback interval between reads of a generation
// counter when no notification arrives.
const generationPoll = 2 * time.Second

// Generation tracks one set of document types across replicas.
type Generation struct {
	c       *Cloud
	name    string
	key     string // the counter's key in tableMeta
	pending atomic.Bool

	mu      sync.Mutex
	seen    int64
	checked time.Time
}

// WatchTypes returns the generation of documents of types, named name (a
// store notification channel). Call it before serving, once per name.
func (c *Cloud) WatchTypes(name string, types ...string) *Generation {
	g := &Generation{c: c, name: name, key: "gen/" + name, seen: -1}
	c.hooksMu.Lock()
	for _, t := range types {
		c.watched[typeKey(t)] = append(c.watched[typeKey(t)], g)
	}
	c.hooksMu.Unlock()
	c.subscribe(name, &g.pending)
	return g
}

// subscribe sets flag whenever channel is signalled.
func (c *Cloud) subscribe(channel string, flag *atomic.Bool) {
	ch, _, err := c.store.Subscribe(channel)
	if err != nil {
		c.log.Warn("no change notifications; caches fall back to polling", "channel", channel, "err", err)
		return
	}
	go func() {
		for range ch { // ends when the store closes
			flag.Store(true)
		}
	}()
}

// Changed reports whether writes of the generation's types committed (on
// any replica) since the last call that returned true. It reads the
// counter only when notified or after generationPoll, so it is cheap to
// call on every request.
func (g *Generation) Changed(ctx context.Context) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.c.now()
	if !g.pending.Swap(false) && g.seen >= 0 && now.Sub(g.checked) < generationPoll {
		return false
	}
	g.checked = now
	n, err := g.c.readCounter(ctx, g.key)
	if err != nil {
		g.pending.Store(true) // look again next time
		return false
	}
	if n == g.seen {
		return false
	}
	g.seen = n
	return true
}

// Sync records the counter as seen, for a caller about to rebuild from
// the store for reasons of its own: the writes counted so far are in what
// it reads, so they need not trigger another rebuild.
func (g *Generation) Sync(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending.Store(false)
	n, err := g.c.readCounter(ctx, g.key)
	if err != nil {
		g.seen = -1
		return
	}
	g.seen, g.checked = n, g.c.now()
}

// Forget makes the next Changed report a change: for a caller whose
// rebuild failed after Changed said yes.
func (g *Generation) Forget() {
	g.mu.Lock()
	g.seen = -1
	g.mu.Unlock()
}

// bumpGenerations increments, inside tx, the counters of the generations
// that watch any of types, and notifies them at commit.
func (c *Cloud) bumpGenerations(ctx context.Context, tx store.Tx, types ...string) error {
	c.hooksMu.RLock()
	var gens []*Generation
	for _, t := range types {
		for _, g := range c.watched[typeKey(t)] {
			dup := false
			for _, h := range gens {
				dup = dup || h == g
			}
			if !dup {
				gens = append(gens, g)
			}
		}
	}
	c.hooksMu.RUnlock()
	for _, g := range gens {
		if _, err := bumpCounter(ctx, tx, g.key); err != nil {
			return err
		}
		if err := tx.Notify(ctx, g.name); err != nil {
			return err
		}
	}
	return nil
}

// bumpCounter increments the counter at key of tableMeta inside tx and
// returns the new value.
func bumpCounter(ctx context.Context, tx store.Tx, key string) (int64, error) {
	var n int64
	rec, err := tx.Get(ctx, tableMeta, key)
	switch {
	case err == nil:
		n, _ = strconv.ParseInt(string(rec.Value), 10, 64)
	case !errors.Is(err, store.ErrNotFound):
		return 0, err
	}
	n++
	_, err = tx.Put(ctx, tableMeta, key, []byte(strconv.FormatInt(n, 10)), store.Cond{})
	return n, err
}

// readCounter reads the counter at key of tableMeta (0 before any write).
func (c *Cloud) readCounter(ctx context.Context, key string) (int64, error) {
	var n int64
	err := c.store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableMeta, key)
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
