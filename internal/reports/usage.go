package reports

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// tableUsage holds the data-plane "last used" records: one per
// (principal, scope, data action).
const tableUsage = "reports.usage"

// DefaultUsageEvery is how often at most a (principal, scope, action)
// record is written again.
const DefaultUsageEvery = 5 * time.Minute

// usageQueue bounds the records waiting for their write; when it is
// full a record is dropped (the next call after DefaultUsageEvery writes
// it again).
const usageQueue = 1024

// usageSeenMax bounds the in-memory throttle: past it, entries older
// than the interval are forgotten.
const usageSeenMax = 100000

// Usage is the last time a principal performed a data action at a scope.
type Usage struct {
	PrincipalID string    `json:"principalId"`
	Scope       string    `json:"scope"`
	Action      string    `json:"action"`
	Last        time.Time `json:"last"`
}

// UsageRecorder records data-plane use cheaply: Note is a map lookup
// under a lock, at most one write per (principal, scope, action) per
// interval, and the write happens off the request (Run drains a bounded
// queue into the store).
type UsageRecorder struct {
	st    store.Store
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]time.Time
	queue chan Usage
	// pending counts the records noted and not yet written (under mu).
	pending int
}

// NewUsageRecorder returns a recorder writing to st; every <= 0 means
// DefaultUsageEvery, now nil the wall clock.
func NewUsageRecorder(st store.Store, every time.Duration, now func() time.Time) *UsageRecorder {
	if every <= 0 {
		every = DefaultUsageEvery
	}
	if now == nil {
		now = time.Now
	}
	return &UsageRecorder{st: st, every: every, now: now, seen: map[string]time.Time{}, queue: make(chan Usage, usageQueue)}
}

func usageKey(principal, scope, action string) string {
	return strings.ToLower(principal + "|" + scope + "|" + action)
}

// Note records that principal performed the data action at scope now.
func (r *UsageRecorder) Note(principal, scope, action string) {
	if r == nil || principal == "" || action == "" {
		return
	}
	k := usageKey(principal, scope, action)
	if len(k) > store.MaxKeyLen {
		return
	}
	now := r.now()
	r.mu.Lock()
	if last, ok := r.seen[k]; ok && now.Sub(last) < r.every {
		r.mu.Unlock()
		return
	}
	if len(r.seen) >= usageSeenMax {
		for key, t := range r.seen {
			if now.Sub(t) >= r.every {
				delete(r.seen, key)
			}
		}
	}
	r.seen[k] = now
	r.pending++
	r.mu.Unlock()
	select {
	case r.queue <- Usage{PrincipalID: principal, Scope: scope, Action: action, Last: now.UTC()}:
	default:
		r.mu.Lock()
		r.pending--
		delete(r.seen, k) // not written: the next call may try again
		r.mu.Unlock()
	}
}

// Run writes queued records until ctx is done.
func (r *UsageRecorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			r.Drain(context.WithoutCancel(ctx))
			return
		case u := <-r.queue:
			_ = r.write(ctx, u)
			r.done()
		}
	}
}

// Drain writes every queued record now and waits for those Run is
// writing: every Note that returned before Drain is in the store after.
func (r *UsageRecorder) Drain(ctx context.Context) error {
	var errs []error
	for {
		select {
		case u := <-r.queue:
			if err := r.write(ctx, u); err != nil {
				errs = append(errs, err)
			}
			r.done()
		default:
			r.mu.Lock()
			n := r.pending
			r.mu.Unlock()
			if n == 0 {
				return errors.Join(errs...)
			}
			// Run holds the last ones: wait for its write to finish.
			time.Sleep(time.Millisecond)
		}
	}
}

func (r *UsageRecorder) done() {
	r.mu.Lock()
	r.pending--
	r.mu.Unlock()
}

func (r *UsageRecorder) write(ctx context.Context, u Usage) error {
	b, _ := json.Marshal(u)
	return r.st.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tableUsage, usageKey(u.PrincipalID, u.Scope, u.Action), b, store.Cond{})
		return err
	})
}

// UsageOperations reads the recorded data-plane use since since as the
// access report's operations (Data set).
func UsageOperations(ctx context.Context, st store.Store, since time.Time) ([]Operation, error) {
	var out []Operation
	err := st.View(ctx, func(tx store.Tx) error {
		out = nil
		after := ""
		for {
			page, err := tx.Scan(ctx, tableUsage, store.Query{After: after, Limit: store.MaxPageSize})
			if err != nil {
				return err
			}
			for _, rec := range page.Records {
				var u Usage
				if err := json.Unmarshal(rec.Value, &u); err != nil {
					return err
				}
				if u.Last.Before(since) {
					continue
				}
				out = append(out, Operation{PrincipalID: u.PrincipalID, Action: u.Action, Scope: u.Scope, Time: u.Last, Data: true})
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	return out, err
}

// LastUsedByScope indexes operations by their lowered scope, keeping the
// latest time: the credentials report's LastUsed.
func LastUsedByScope(ops []Operation) func(scope string) time.Time {
	last := map[string]time.Time{}
	for _, o := range ops {
		k := strings.ToLower(o.Scope)
		if o.Time.After(last[k]) {
			last[k] = o.Time
		}
	}
	return func(scope string) time.Time { return last[strings.ToLower(scope)] }
}
