package identity

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
)

// Errors of [Records]. Implementations wrap them; callers test with
// errors.Is.
var (
	// ErrNotFound is returned by Get for a missing record.
	ErrNotFound = errors.New("identity: record not found")
	// ErrExists is returned by Create when the key is taken.
	ErrExists = errors.New("identity: record already exists")
)

// Records is the storage the directory needs: JSON documents by table and
// key. It is deliberately smaller than internal/store's interface so the
// token path can be tested and benchmarked in memory; [StoreRecords] adapts
// a store.Store to it.
//
// Implementations are safe for concurrent use. Create is atomic: of two
// concurrent Creates of one key, exactly one succeeds, which is what makes
// jti replay detection sound across replicas sharing a database.
type Records interface {
	// Get returns the value at key or an error matching ErrNotFound.
	Get(ctx context.Context, table, key string) ([]byte, error)
	// Put writes value at key, replacing any previous value.
	Put(ctx context.Context, table, key string, value []byte) error
	// Create writes value at key only when key is absent, else it returns
	// an error matching ErrExists.
	Create(ctx context.Context, table, key string, value []byte) error
	// List returns the values whose keys start with prefix, in key order.
	List(ctx context.Context, table, prefix string) ([][]byte, error)
	// Delete removes key, or returns an error matching ErrNotFound when it
	// is absent.
	Delete(ctx context.Context, table, key string) error
	// DeleteBefore deletes the keys that sort before end and returns how
	// many it deleted.
	DeleteBefore(ctx context.Context, table, end string) (int, error)
	// Modify reads key and writes what fn makes of it as one atomic step:
	// no other write of key comes between the read and the write. fn gets
	// the current value (found false when key is absent) and returns the
	// next value, or del true to remove key; an error from fn writes
	// nothing and is Modify's. fn may run more than once (a store retries
	// a transaction that lost a race) and must not use the Records.
	Modify(ctx context.Context, table, key string, fn ModifyFunc) error
}

// ModifyFunc is the read-modify-write step of [Records.Modify].
type ModifyFunc func(cur []byte, found bool) (next []byte, del bool, err error)

// MemRecords is an in-memory [Records] for tests and benchmarks.
type MemRecords struct {
	mu   sync.RWMutex
	data map[string]map[string][]byte
}

// NewMemRecords returns an empty in-memory record set.
func NewMemRecords() *MemRecords {
	return &MemRecords{data: map[string]map[string][]byte{}}
}

// Get implements Records.
func (m *MemRecords) Get(_ context.Context, table, key string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.data[table][key]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// Put implements Records.
func (m *MemRecords) Put(_ context.Context, table, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(table, key, value)
	return nil
}

func (m *MemRecords) put(table, key string, value []byte) {
	t := m.data[table]
	if t == nil {
		t = map[string][]byte{}
		m.data[table] = t
	}
	t[key] = append([]byte(nil), value...)
}

// Create implements Records.
func (m *MemRecords) Create(_ context.Context, table, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[table][key]; ok {
		return ErrExists
	}
	m.put(table, key, value)
	return nil
}

// List implements Records.
func (m *MemRecords) List(_ context.Context, table, prefix string) ([][]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := make([]string, 0, len(m.data[table]))
	for k := range m.data[table] {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = append([]byte(nil), m.data[table][k]...)
	}
	return out, nil
}

// Delete implements Records.
func (m *MemRecords) Delete(_ context.Context, table, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.data[table][key]; !ok {
		return ErrNotFound
	}
	delete(m.data[table], key)
	return nil
}

// Modify implements Records, under the write lock.
func (m *MemRecords) Modify(_ context.Context, table, key string, fn ModifyFunc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, found := m.data[table][key]
	next, del, err := fn(append([]byte(nil), cur...), found)
	switch {
	case err != nil:
		return err
	case del:
		delete(m.data[table], key)
	default:
		m.put(table, key, next)
	}
	return nil
}

// DeleteBefore implements Records.
func (m *MemRecords) DeleteBefore(_ context.Context, table, end string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.data[table] {
		if k < end {
			delete(m.data[table], k)
			n++
		}
	}
	return n, nil
}
