package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

var lockTests = []test{
	{"TryLockFailsWhileHeld", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := s.Lock(ctx, "rule/1")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.TryLock(ctx, "rule/1"); err != nil || ok {
			t.Fatalf("TryLock of a held lock: ok=%v err=%v", ok, err)
		}
		select {
		case <-l.Lost():
			t.Fatal("a healthy lock reports itself lost")
		default:
		}
		other, ok, err := s.TryLock(ctx, "rule/2")
		if err != nil || !ok {
			t.Fatalf("TryLock of a free lock: ok=%v err=%v", ok, err)
		}
		_ = other.Release(ctx)
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		again, ok, err := s.TryLock(ctx, "rule/1")
		if err != nil || !ok {
			t.Fatalf("TryLock after release: ok=%v err=%v", ok, err)
		}
		_ = again.Release(ctx)
		_ = again.Release(ctx) // a second release is harmless
	}},
	{"LockWaitsForTheHolder", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		l, err := s.Lock(ctx, "owner")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan store.Lock)
		go func() {
			l2, err := s.Lock(ctx, "owner")
			if err != nil {
				t.Error(err)
			}
			got <- l2
		}()
		select {
		case <-got:
			t.Fatal("second Lock did not wait for the holder")
		case <-time.After(50 * time.Millisecond):
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if l2 := <-got; l2 != nil {
			_ = l2.Release(ctx)
		}
	}},
	{"LockGivesUpWhenTheContextEnds", func(t *testing.T, s store.Store) {
		l, err := s.Lock(context.Background(), "busy")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := s.Lock(ctx, "busy"); err == nil {
			t.Fatal("Lock of a held lock returned without the context ending")
		}
	}},
}
