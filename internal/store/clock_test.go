package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var clockBackends = []struct {
	name string
	open func(t *testing.T, opts ...store.Option) store.Store
}{
	{"SQLite", func(t *testing.T, opts ...store.Option) store.Store { return storetest.SQLite(t, opts...) }},
	{"Postgres", func(t *testing.T, opts ...store.Option) store.Store { return storetest.Postgres(t, opts...) }},
}

func TestTimestampsComeFromTheInjectedClock(t *testing.T) {
	for _, b := range clockBackends {
		t.Run(b.name, func(t *testing.T) {
			start := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
			clock := &fakeClock{now: start}
			s := b.open(t, store.WithClock(clock.Now))
			ctx := context.Background()
			put := func() store.Record {
				var rec store.Record
				err := s.Update(ctx, func(tx store.Tx) error {
					if _, err := tx.Put(ctx, "t", "k", []byte("v"), store.Cond{}); err != nil {
						return err
					}
					var err error
					rec, err = tx.Get(ctx, "t", "k")
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return rec
			}
			first := put()
			if !first.Created.Equal(start) || !first.Updated.Equal(start) {
				t.Fatalf("created %v updated %v, want %v", first.Created, first.Updated, start)
			}
			clock.Advance(time.Hour)
			second := put()
			if !second.Created.Equal(start) || !second.Updated.Equal(start.Add(time.Hour)) {
				t.Fatalf("after an hour: created %v updated %v", second.Created, second.Updated)
			}
		})
	}
}

func TestLeaseDeadlinesFollowTheInjectedClock(t *testing.T) {
	for _, b := range clockBackends {
		t.Run(b.name, func(t *testing.T) {
			start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			clock := &fakeClock{now: start}
			s := b.open(t, store.WithClock(clock.Now))
			ctx := context.Background()
			err := s.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Put(ctx, "jobs", "job/1", []byte("x"), store.Cond{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			ls, err := s.Acquire(ctx, "jobs", "job/", "a", time.Minute, 1)
			if err != nil || len(ls) != 1 || !ls[0].Until.Equal(start.Add(time.Minute)) {
				t.Fatalf("acquire: %+v %v", ls, err)
			}
			clock.Advance(59 * time.Second)
			if ls, err := s.Acquire(ctx, "jobs", "job/", "b", time.Minute, 1); err != nil || len(ls) != 0 {
				t.Fatalf("b took a lease with a second left: %+v %v", ls, err)
			}
			clock.Advance(2 * time.Second)
			if ls, err := s.Acquire(ctx, "jobs", "job/", "b", time.Minute, 1); err != nil || len(ls) != 1 {
				t.Fatalf("b could not take an expired lease: %+v %v", ls, err)
			}
		})
	}
}
