package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

func leaseKeys(ls []store.Lease) []string {
	var keys []string
	for _, l := range ls {
		keys = append(keys, l.Key)
	}
	return keys
}

func mustAcquire(t *testing.T, s store.Store, prefix, owner string, ttl time.Duration, limit int) []store.Lease {
	t.Helper()
	ls, err := s.Acquire(context.Background(), "jobs", prefix, owner, ttl, limit)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

var leaseTests = []test{
	{"ReleaseAllHandsBackOneOwnersLeases", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		seed(t, s, "jobs", []string{"job/0", "job/1", "job/2"})
		seed(t, s, "outbox", []string{"p/0"})
		mustAcquire(t, s, "", "worker-a", time.Hour, 2)
		if _, err := s.Acquire(ctx, "outbox", "", "worker-a", time.Hour, 1); err != nil {
			t.Fatal(err)
		}
		mustAcquire(t, s, "", "worker-b", time.Hour, 1)
		n, err := s.ReleaseAll(ctx, "worker-a")
		if err != nil || n != 3 {
			t.Fatalf("ReleaseAll = %d, %v; want 3 leases in two tables", n, err)
		}
		if got := leaseKeys(mustAcquire(t, s, "", "worker-c", time.Hour, 10)); !slices.Equal(got, []string{"job/0", "job/1"}) {
			t.Fatalf("after worker-a handed back, worker-c leased %q; want worker-a's two (worker-b keeps its own)", got)
		}
		if n, err := s.ReleaseAll(ctx, "worker-a"); err != nil || n != 0 {
			t.Fatalf("second ReleaseAll = %d, %v; want 0", n, err)
		}
		if _, err := s.ReleaseAll(ctx, ""); err == nil {
			t.Fatal("ReleaseAll with no owner succeeded")
		}
	}},
	{"QueueStatsCountDepthLeasedAndExpired", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		st, err := s.QueueStats(ctx, "jobs", "job/")
		if err != nil || st != (store.QueueStats{}) {
			t.Fatalf("stats of an empty queue = %+v, %v", st, err)
		}
		seed(t, s, "jobs", []string{"job/0", "job/1", "job/2", "job/3", "other/0"})
		mustAcquire(t, s, "job/", "worker-a", time.Hour, 2)
		mustAcquire(t, s, "job/", "worker-b", time.Nanosecond, 1) // expires at once: a crashed holder
		time.Sleep(time.Millisecond)
		st, err = s.QueueStats(ctx, "jobs", "job/")
		if err != nil {
			t.Fatal(err)
		}
		if st.Depth != 4 || st.Leased != 2 || st.Expired != 1 || st.Oldest.IsZero() || st.Oldest.After(time.Now()) {
			t.Fatalf("stats = %+v; want depth 4, leased 2, expired 1 and an oldest time", st)
		}
		if _, err := s.QueueStats(ctx, "BAD TABLE", ""); err == nil {
			t.Fatal("stats of an invalid table name succeeded")
		}
	}},
	{"AcquireTakesFreeRecordsInKeyOrder", func(t *testing.T, s store.Store) {
		seed(t, s, "jobs", []string{"job/3", "job/1", "job/2", "job/4", "job/0", "other/0"})
		a := mustAcquire(t, s, "job/", "worker-a", time.Hour, 3)
		if got := leaseKeys(a); !slices.Equal(got, []string{"job/0", "job/1", "job/2"}) {
			t.Fatalf("worker-a leased %q", got)
		}
		for _, l := range a {
			if l.Owner != "worker-a" || !l.Until.After(time.Now()) || string(l.Value) != l.Key {
				t.Fatalf("lease %+v", l)
			}
		}
		b := mustAcquire(t, s, "job/", "worker-b", time.Hour, 10)
		if got := leaseKeys(b); !slices.Equal(got, []string{"job/3", "job/4"}) {
			t.Fatalf("worker-b leased %q", got)
		}
		if c := mustAcquire(t, s, "job/", "worker-c", time.Hour, 10); len(c) != 0 {
			t.Fatalf("worker-c leased %q from a fully leased queue", leaseKeys(c))
		}
	}},
	{"ReleaseFreesTheRecordForOthers", func(t *testing.T, s store.Store) {
		seed(t, s, "jobs", []string{"job/0"})
		mustAcquire(t, s, "", "worker-a", time.Hour, 1)
		wantErr(t, "release by non-owner", s.Release(context.Background(), "jobs", "job/0", "worker-b"), store.ErrLeaseLost)
		if err := s.Release(context.Background(), "jobs", "job/0", "worker-a"); err != nil {
			t.Fatal(err)
		}
		if got := leaseKeys(mustAcquire(t, s, "", "worker-b", time.Hour, 1)); !slices.Equal(got, []string{"job/0"}) {
			t.Fatalf("worker-b leased %q after release", got)
		}
	}},
	{"RenewExtendsOnlyForTheOwner", func(t *testing.T, s store.Store) {
		seed(t, s, "jobs", []string{"job/0"})
		first := mustAcquire(t, s, "", "worker-a", time.Minute, 1)[0]
		l, err := s.Renew(context.Background(), "jobs", "job/0", "worker-a", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Until.After(first.Until) || l.Owner != "worker-a" {
			t.Fatalf("renewed lease %+v, first %+v", l, first)
		}
		_, err = s.Renew(context.Background(), "jobs", "job/0", "worker-b", time.Hour)
		wantErr(t, "renew by non-owner", err, store.ErrLeaseLost)
	}},
	{"ExpiredLeaseIsTakenAndLostByItsOwner", func(t *testing.T, s store.Store) {
		seed(t, s, "jobs", []string{"job/0"})
		mustAcquire(t, s, "", "worker-a", time.Nanosecond, 1)
		time.Sleep(time.Millisecond)
		if got := leaseKeys(mustAcquire(t, s, "", "worker-b", time.Hour, 1)); len(got) != 1 {
			t.Fatalf("worker-b could not take an expired lease: %q", got)
		}
		_, err := s.Renew(context.Background(), "jobs", "job/0", "worker-a", time.Hour)
		wantErr(t, "renew after takeover", err, store.ErrLeaseLost)
	}},
	{"WritesKeepTheLease", func(t *testing.T, s store.Store) {
		seed(t, s, "jobs", []string{"job/0"})
		mustAcquire(t, s, "", "worker-a", time.Hour, 1)
		mustPut(t, s, "jobs", "job/0", "progress")
		if got := mustAcquire(t, s, "", "worker-b", time.Hour, 1); len(got) != 0 {
			t.Fatal("a write released the lease")
		}
	}},
	{"ConcurrentWorkersNeverShareARecord", func(t *testing.T, s store.Store) {
		var keys []string
		for i := range 60 {
			keys = append(keys, fmt.Sprintf("job/%03d", i))
		}
		seed(t, s, "jobs", keys)
		var mu sync.Mutex
		seen := map[string]string{}
		var wg sync.WaitGroup
		for w := range 4 {
			owner := fmt.Sprintf("worker-%d", w)
			wg.Go(func() {
				for {
					ls, err := s.Acquire(context.Background(), "jobs", "job/", owner, time.Hour, 4)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ls) == 0 {
						return
					}
					mu.Lock()
					for _, l := range ls {
						if prev, dup := seen[l.Key]; dup {
							t.Errorf("%s leased by %s and %s", l.Key, prev, owner)
						}
						seen[l.Key] = owner
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != len(keys) {
			t.Fatalf("%d of %d records leased", len(seen), len(keys))
		}
	}},
	{"BadLeaseArgumentsAreInvalid", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		_, err := s.Acquire(ctx, "jobs", "", "", time.Hour, 1)
		wantErr(t, "empty owner", err, store.ErrInvalid)
		_, err = s.Acquire(ctx, "jobs", "", "w", 0, 1)
		wantErr(t, "zero ttl", err, store.ErrInvalid)
		_, err = s.Acquire(ctx, "jobs", "", "w", time.Hour, 0)
		wantErr(t, "zero limit", err, store.ErrInvalid)
	}},
}
