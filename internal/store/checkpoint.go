package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies the SQLite write-ahead log into the database file
// beside the writer rather than in its commits. SQLite's automatic
// checkpoint runs in the connection that commits, once the log passes
// its threshold: a long run of write transactions (a first compliance
// scan) then spends a fifth of its writer's time copying pages, while
// readers and the other core could. Here a connection of its own runs a
// PASSIVE checkpoint (it waits for no reader or writer) at most every
// checkpointEvery while commits arrive; the writer keeps an automatic
// checkpoint at a larger threshold as a backstop, should this one fall
// behind or fail (docs/decisions/store.md).
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
	// ran counts the checkpoints run, for a test's failure message.
	ran atomic.Int64
}

// checkpointEvery is the least time between two background checkpoints:
// under a steady stream of small commits, a checkpoint (and its fsync of
// the database file) at most five times a second. The writer's own
// threshold (wal_autocheckpoint in sqliteWriteParams, 16,000 pages where
// SQLite's default is 1,000) is reached only when this one falls behind.
const checkpointEvery = 200 * time.Millisecond

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	c.wg.Add(1)
	go c.loop()
	return c
}

// committed tells the checkpointer a write transaction committed.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer c.wg.Done()
	var last time.Time
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		if wait := checkpointEvery - time.Since(last); wait > 0 {
			select {
			case <-c.stop:
				return
			case <-time.After(wait):
			}
		}
		last = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// PASSIVE does what it can without waiting; SQLITE_BUSY (another
		// process checkpointing) is no failure: the log stays for the
		// next one.
		_, err := c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		if err != nil && !sqliteBusy(err) {
			slog.Default().Debug("store: background checkpoint failed", "err", err)
		}
		c.ran.Add(1)
	}
}

// close stops the loop and closes the connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.wg.Wait()
	return c.db.Close()
}
