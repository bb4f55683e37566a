package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// openTwice opens two stores (two connection pools, as two replicas would
// have) on one fresh PostgreSQL schema.
func openTwice(t *testing.T) (store.Store, store.Store) {
	t.Helper()
	u := storetest.PostgresSchema(t)
	var ss [2]store.Store
	for i := range ss {
		s, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ss[i] = s
	}
	return ss[0], ss[1]
}

func TestPostgresLocksExcludeOtherReplicas(t *testing.T) {
	a, b := openTwice(t)
	ctx := context.Background()
	la, err := a.Lock(ctx, "rule/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.TryLock(ctx, "rule/1"); err != nil || ok {
		t.Fatalf("replica b took a lock replica a holds: ok=%v err=%v", ok, err)
	}
	got := make(chan error, 1)
	go func() {
		lb, err := b.Lock(ctx, "rule/1")
		if err == nil {
			err = lb.Release(ctx)
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("replica b's Lock returned while a held the lock: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("replica b's Lock after release: %v", err)
	}
}

func TestPostgresLockIsLostWithItsSession(t *testing.T) {
	a, b := openTwice(t)
	ctx := context.Background()
	l, err := a.Lock(ctx, "rule/1")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
		t.Fatal("a healthy lock reports itself lost")
	default:
	}
	// Kill the backend that holds the lock, as a network failure would.
	key := b.Raw().Schema + "/lock/rule/1"
	_, err = b.Raw().Write.ExecContext(ctx, `WITH k AS (SELECT hashtextextended($1, 0) AS h)
		SELECT pg_terminate_backend(pid) FROM pg_locks, k
		WHERE locktype = 'advisory' AND classid = ((h >> 32) & 4294967295)::bigint::oid
		AND objid = (h & 4294967295)::bigint::oid`, key)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
	case <-time.After(15 * time.Second):
		t.Fatal("lock not reported lost after its session was terminated")
	}
	lb, ok, err := b.TryLock(ctx, "rule/1")
	if err != nil || !ok {
		t.Fatalf("lock not free after its holder's session ended: ok=%v err=%v", ok, err)
	}
	_ = lb.Release(ctx)
	_ = l.Release(ctx) // releasing a lost lock is harmless
	if l2, ok, err := a.TryLock(ctx, "rule/1"); err != nil || !ok {
		t.Fatalf("replica a cannot lock again after losing its session: ok=%v err=%v", ok, err)
	} else {
		_ = l2.Release(ctx)
	}
}
