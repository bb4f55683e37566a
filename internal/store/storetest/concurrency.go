package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

var concurrencyTests = []test{
	{"ConcurrentIncrementsLoseNoUpdate", func(t *testing.T, s store.Store) {
		const workers, each = 6, 15
		mustPut(t, s, "t", "counter", "0")
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				for range each {
					err := s.Update(context.Background(), func(tx store.Tx) error {
						r, err := tx.Get(context.Background(), "t", "counter")
						if err != nil {
							return err
						}
						n, err := strconv.Atoi(string(r.Value))
						if err != nil {
							return err
						}
						_, err = tx.Put(context.Background(), "t", "counter", []byte(strconv.Itoa(n+1)), store.Cond{})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if v := string(mustGet(t, s, "t", "counter").Value); v != strconv.Itoa(workers*each) {
			t.Fatalf("counter = %s, want %d", v, workers*each)
		}
	}},
	{"ConcurrentWritersOfDistinctKeysAllLand", func(t *testing.T, s store.Store) {
		const workers, each = 8, 25
		var wg sync.WaitGroup
		var failed atomic.Value
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					if _, err := put(t, s, "t", fmt.Sprintf("w%d/%03d", w, i), "v", store.Cond{}); err != nil {
						failed.Store(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			t.Fatal(err)
		}
		if got, _ := scanAll(t, s, "t", store.Query{Limit: 1000}); len(got) != workers*each {
			t.Fatalf("%d records, want %d", len(got), workers*each)
		}
	}},
	{"CreateRaceHasOneWinner", func(t *testing.T, s store.Store) {
		const racers = 6
		var wg sync.WaitGroup
		var won, lost atomic.Int32
		for i := range racers {
			wg.Go(func() {
				_, err := put(t, s, "t", "contested", strconv.Itoa(i), store.IfAbsent())
				switch {
				case err == nil:
					won.Add(1)
				case errors.Is(err, store.ErrExists):
					lost.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 || lost.Load() != racers-1 {
			t.Fatalf("%d winners and %d losers, want 1 and %d", won.Load(), lost.Load(), racers-1)
		}
	}},
	{"WriteSkewIsPrevented", func(t *testing.T, s store.Store) {
		// Each transaction claims a slot only if neither slot is taken.
		// Run serially, exactly one claim succeeds; a store with only
		// snapshot isolation would let both through.
		var arrived atomic.Int32
		both := make(chan struct{})
		var wg sync.WaitGroup
		for _, slot := range []string{"slot-a", "slot-b"} {
			wg.Go(func() {
				first := true
				err := s.Update(context.Background(), func(tx store.Tx) error {
					for _, k := range []string{"slot-a", "slot-b"} {
						if _, err := tx.Get(context.Background(), "t", k); err == nil {
							return nil
						} else if !errors.Is(err, store.ErrNotFound) {
							return err
						}
					}
					if first {
						// Let the other transaction read too, when the
						// backend lets it start at all (SQLite does not).
						first = false
						if arrived.Add(1) == 2 {
							close(both)
						}
						select {
						case <-both:
						case <-time.After(300 * time.Millisecond):
						}
					}
					_, err := tx.Put(context.Background(), "t", slot, []byte("claimed"), store.Cond{})
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, _ := scanAll(t, s, "t", store.Query{})
		if len(got) != 1 {
			t.Fatalf("claimed slots %q, want exactly one", got)
		}
	}},
	{"ViewSeesASnapshot", func(t *testing.T, s store.Store) {
		mustPut(t, s, "t", "a", "old")
		mustPut(t, s, "t", "b", "old")
		err := s.View(context.Background(), func(tx store.Tx) error {
			if r, err := tx.Get(context.Background(), "t", "a"); err != nil || string(r.Value) != "old" {
				return fmt.Errorf("first read: %q %v", r.Value, err)
			}
			mustPut(t, s, "t", "a", "new")
			mustPut(t, s, "t", "b", "new")
			for _, k := range []string{"a", "b"} {
				if r, err := tx.Get(context.Background(), "t", k); err != nil || string(r.Value) != "old" {
					return fmt.Errorf("view saw %s = %q (%v) committed after it began", k, r.Value, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}},
	{"UncommittedWritesAreInvisible", func(t *testing.T, s store.Store) {
		err := s.Update(context.Background(), func(tx store.Tx) error {
			if _, err := tx.Put(context.Background(), "t", "pending", []byte("x"), store.Cond{}); err != nil {
				return err
			}
			_, err := get(t, s, "t", "pending")
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("concurrent view saw an uncommitted write (err %v)", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		mustGet(t, s, "t", "pending")
	}},
}
