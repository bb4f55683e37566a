package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

// Named locks on PostgreSQL.
//
// Every lock a process holds is a session advisory lock on ONE connection
// of its own (the session), taken out of the pool while any lock is held, so
// that holding many locks costs one connection, not one each, and a crashed
// process releases them all when its session ends. Advisory locks are
// re-entrant within a session, so an in-process lock (memLocker) first
// excludes the holders inside this process. Lock polls pg_try_advisory_lock
// rather than blocking in pg_advisory_lock, which would stall the shared
// session. Statements on the session run under their own timeout, not the
// caller's context: a cancel racing a grant would otherwise leave a lock
// held that nobody knows of.
type pgLocker struct {
	db    *sql.DB
	scope string // schema, so stores in different schemas do not contend
	local *memLocker

	mu   sync.Mutex
	sess *pgSession
}

// pgSession is the connection holding this process's advisory locks.
type pgSession struct {
	conn *sql.Conn
	held int
	lost chan struct{} // closed when the session fails
	done bool
}

// Timings of the lock session.
var (
	pgLockStatementTimeout = 10 * time.Second
	pgLockHealthInterval   = 2 * time.Second
	pgLockPollMax          = 250 * time.Millisecond
)

func newPgLocker(db *sql.DB, scope string) *pgLocker {
	return &pgLocker{db: db, scope: scope, local: newMemLocker()}
}

func (p *pgLocker) lock(ctx context.Context, name string, try bool) (Lock, bool, error) {
	local, ok, err := p.local.lock(ctx, name, try)
	if err != nil || !ok {
		return nil, ok, err
	}
	key := p.scope + "/lock/" + name
	wait := 5 * time.Millisecond
	for {
		sess, got, err := p.tryAdvisory(key)
		if err != nil {
			_ = local.Release(ctx)
			return nil, false, fmt.Errorf("store: lock %s: %w", name, err)
		}
		if got {
			return &pgLock{p: p, sess: sess, key: key, local: local}, true, nil
		}
		if try {
			_ = local.Release(ctx)
			return nil, false, nil
		}
		if err := sleep(ctx, wait); err != nil {
			_ = local.Release(ctx)
			return nil, false, err
		}
		wait = min(2*wait, pgLockPollMax)
	}
}

// tryAdvisory tries the advisory lock on the session, opening one if
// needed, and counts it as held there when granted.
func (p *pgLocker) tryAdvisory(key string) (*pgSession, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), pgLockStatementTimeout)
	defer cancel()
	if p.sess == nil {
		conn, err := p.db.Conn(ctx)
		if err != nil {
			return nil, false, err
		}
		p.sess = &pgSession{conn: conn, lost: make(chan struct{})}
		go p.watch(p.sess)
	}
	s := p.sess
	var ok bool
	if err := s.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&ok); err != nil {
		p.failLocked(s)
		return nil, false, err
	}
	if ok {
		s.held++
	} else {
		p.idleLocked(s)
	}
	return s, ok, nil
}

// unlock releases key on sess, if sess is still the live session.
func (p *pgLocker) unlock(sess *pgSession, key string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sess.done {
		return nil // the session, and so the lock, is gone already
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgLockStatementTimeout)
	defer cancel()
	var ok bool
	if err := sess.conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key).Scan(&ok); err != nil {
		p.failLocked(sess) // ending the session releases the lock
		return fmt.Errorf("store: unlock: %w", err)
	}
	sess.held--
	p.idleLocked(sess)
	return nil
}

// idleLocked returns a session that holds nothing to the pool.
func (p *pgLocker) idleLocked(s *pgSession) {
	if s.held > 0 || s.done {
		return
	}
	s.done = true
	_ = s.conn.Close()
	if p.sess == s {
		p.sess = nil
	}
}

// failLocked drops a failed session: its locks are gone, so their holders
// are told through Lost, and the connection is discarded, not pooled.
func (p *pgLocker) failLocked(s *pgSession) {
	if s.done {
		return
	}
	s.done = true
	close(s.lost)
	_ = s.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = s.conn.Close()
	if p.sess == s {
		p.sess = nil
	}
}

// watch checks the session's health while it holds locks.
func (p *pgLocker) watch(s *pgSession) {
	t := time.NewTicker(pgLockHealthInterval)
	defer t.Stop()
	for range t.C {
		p.mu.Lock()
		if s.done {
			p.mu.Unlock()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), pgLockStatementTimeout)
		if err := s.conn.PingContext(ctx); err != nil {
			p.failLocked(s)
		}
		cancel()
		p.mu.Unlock()
	}
}

// close ends the session when the store closes; its locks go with it.
func (p *pgLocker) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sess != nil {
		p.failLocked(p.sess)
	}
}

type pgLock struct {
	p     *pgLocker
	sess  *pgSession
	key   string
	local Lock
	once  sync.Once
	err   error
}

// Release implements Lock.
func (l *pgLock) Release(ctx context.Context) error {
	l.once.Do(func() {
		l.err = l.p.unlock(l.sess, l.key)
		_ = l.local.Release(ctx)
	})
	return l.err
}

// Lost implements Lock.
func (l *pgLock) Lost() <-chan struct{} { return l.sess.lost }
