package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
)

// locker is the named-lock half of a backend.
type locker interface {
	lock(ctx context.Context, name string, try bool) (Lock, bool, error)
}

// Lock implements Store.
func (s *sqlStore) Lock(ctx context.Context, name string) (Lock, error) {
	if err := checkLockName(name); err != nil {
		return nil, err
	}
	l, _, err := s.locker.lock(ctx, name, false)
	return l, err
}

// TryLock implements Store.
func (s *sqlStore) TryLock(ctx context.Context, name string) (Lock, bool, error) {
	if err := checkLockName(name); err != nil {
		return nil, false, err
	}
	return s.locker.lock(ctx, name, true)
}

func checkLockName(name string) error {
	if name == "" || len(name) > MaxKeyLen {
		return fmt.Errorf("%w: lock name must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	}
	return checkText("lock name", name)
}

// memLocker holds named locks in process, for SQLite, whose file belongs
// to one process.
type memLocker struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed on release
}

func newMemLocker() *memLocker { return &memLocker{held: map[string]chan struct{}{}} }

func (m *memLocker) lock(ctx context.Context, name string, try bool) (Lock, bool, error) {
	for {
		m.mu.Lock()
		ch, busy := m.held[name]
		if !busy {
			ch = make(chan struct{})
			m.held[name] = ch
			m.mu.Unlock()
			return &memLock{m: m, name: name, ch: ch}, true, nil
		}
		m.mu.Unlock()
		if try {
			return nil, false, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

type memLock struct {
	m    *memLocker
	name string
	ch   chan struct{}
	once sync.Once
}

func (l *memLock) Release(context.Context) error {
	l.once.Do(func() {
		l.m.mu.Lock()
		delete(l.m.held, l.name)
		close(l.ch)
		l.m.mu.Unlock()
	})
	return nil
}

// pgLocker holds named locks as session-level advisory locks, each on a
// connection of its own taken from the pool, so a lock dies with its
// session if the process does. Names are scoped by schema, so stores in
// different schemas of one database do not contend.
type pgLocker struct {
	db    *sql.DB
	scope string
}

func (p *pgLocker) lock(ctx context.Context, name string, try bool) (Lock, bool, error) {
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lock %s: %w", name, err)
	}
	key := p.scope + "/lock/" + name
	ok := true
	if try {
		err = conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&ok)
	} else {
		_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key)
	}
	if err != nil {
		// The lock may have been granted as the wait was cancelled: drop
		// the session rather than return it to the pool holding a lock.
		discard(conn)
		return nil, false, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return &pgLock{conn: conn, key: key}, true, nil
}

type pgLock struct {
	mu   sync.Mutex
	conn *sql.Conn
	key  string
}

func (l *pgLock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	conn := l.conn
	l.conn = nil
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, l.key).Scan(&ok); err != nil || !ok {
		discard(conn) // ending the session releases the lock
		if err != nil {
			return fmt.Errorf("store: unlock: %w", err)
		}
		return nil
	}
	return conn.Close()
}

// discard closes conn's session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
