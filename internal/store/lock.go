package store

import (
	"context"
	"fmt"
	"sync"
)

// locker is the named-lock half of a backend.
type locker interface {
	lock(ctx context.Context, name string, try bool) (Lock, bool, error)
	close()
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

// memLocker holds named locks in process: all of them on SQLite, whose
// file belongs to one process, and the in-process half on PostgreSQL.
type memLocker struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed on release
}

func newMemLocker() *memLocker { return &memLocker{held: map[string]chan struct{}{}} }

func (m *memLocker) close() {}

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

// Lost implements Lock: an in-process lock is never lost.
func (l *memLock) Lost() <-chan struct{} { return nil }
