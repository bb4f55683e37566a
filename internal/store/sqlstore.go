package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// sqlStore is the Store over database/sql that both backends share; the
// backend differences live in its dialect-specific queries and hooks.
type sqlStore struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection; PostgreSQL: the pool
	read    *sql.DB // SQLite: query-only pool; PostgreSQL: same as write
	schema  string
	o       options
	q       queries
	// retryable reports whether err is a serialization conflict that a
	// re-run of the transaction may avoid.
	retryable func(err error) bool
	locker    locker
	notify    *notifier
	closed    atomic.Bool
	// ckpt runs SQLite's checkpoints (nil on PostgreSQL).
	ckpt *checkpointer
	// batchSQL caches the statements of PutMany (by row count) and
	// DeleteMany (by minus the key count).
	batchSQL sync.Map
}

// View implements Store.
func (s *sqlStore) View(ctx context.Context, fn func(tx Tx) error) error {
	return s.run(ctx, true, fn)
}

// Update implements Store.
func (s *sqlStore) Update(ctx context.Context, fn func(tx Tx) error) error {
	return s.retry(ctx, func() error { return s.run(ctx, false, fn) })
}

// retry calls attempt until it succeeds, fails with an error that is not a
// serialization conflict, or has failed with conflicts maxRetries+1 times.
func (s *sqlStore) retry(ctx context.Context, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		if err == nil || !(s.retryable(err) || errors.Is(err, errInsertRaced)) {
			return err
		}
		if n >= s.o.maxRetries {
			return fmt.Errorf("%w after %d attempts: %w", ErrConflict, n+1, err)
		}
		if err := sleep(ctx, backoff(n)); err != nil {
			return err
		}
	}
}

// backoff is the wait before retry attempt+1: exponential from 1ms, capped
// at 100ms, with full jitter so that colliding writers spread out.
func backoff(attempt int) time.Duration {
	d := time.Millisecond << min(attempt, 7)
	d = min(d, 100*time.Millisecond)
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// run executes fn in one transaction: commit on nil, rollback on an error
// or a panic (which is passed on).
func (s *sqlStore) run(ctx context.Context, readOnly bool, fn func(tx Tx) error) (err error) {
	if s.closed.Load() {
		return ErrClosed
	}
	db, opts := s.write, &sql.TxOptions{Isolation: sql.LevelSerializable}
	if readOnly {
		db, opts = s.read, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	if s.dialect == SQLite {
		// SQLite transactions are serializable by construction; the driver
		// ignores the level, and ReadOnly only selects a deferred BEGIN.
		opts.Isolation = sql.LevelDefault
	}
	stx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &sqlTx{s: s, tx: stx, readOnly: readOnly}
	defer func() {
		t.done = true
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := t.flush(ctx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := t.sendPayloads(ctx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if err := stx.Commit(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("store: commit: %w", cerr)
		}
		return fmt.Errorf("store: commit: %w", err)
	}
	if s.ckpt != nil && !readOnly {
		s.ckpt.committed()
	}
	if s.dialect != Postgres { // PostgreSQL delivers to this process too, through LISTEN
		for _, n := range t.notes {
			s.notify.signal(n.channel, n.payload)
		}
	}
	return nil
}

// Raw implements Store.
func (s *sqlStore) Raw() Raw {
	return Raw{Dialect: s.dialect, Write: s.write, Read: s.read, Schema: s.schema}
}

// Close implements Store.
func (s *sqlStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.locker.close()
	s.notify.close()
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	err = errors.Join(err, s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

func (s *sqlStore) now() time.Time { return s.o.now().UTC() }
