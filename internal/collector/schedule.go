package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// The reconciliation schedule's store records.
const (
	tableReconcile = "collector.reconcile"
	lastReconcile  = "last"
	reconcileLock  = "collector.reconcile"
)

// ErrReconcileBusy is returned by Reconciler.Once when another replica
// holds the reconciliation.
var ErrReconcileBusy = errors.New("another replica is reconciling")

// Reconciliation is the record of the latest reconciliation, shared by the
// replicas through the store.
type Reconciliation struct {
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished"`
	Result   Reconciled `json:"result"`
	Error    string     `json:"error,omitempty"`
	// By is the replica that did it; Count counts the reconciliations so
	// far.
	By    string `json:"by"`
	Count int    `json:"count"`
}

// Reconciler runs Reconcile on a schedule: every Interval, one replica at
// a time (the others skip while one holds the store's lock, and find the
// schedule's record fresh afterwards), and on demand. Make one with
// NewReconciler.
type Reconciler struct {
	Store     store.Store
	Apps      *Applications
	Inventory Inventory
	// Interval is the schedule (default 1 hour).
	Interval time.Duration
	// Check is how often Run looks whether a reconciliation is due
	// (default 1 minute).
	Check time.Duration
	// Owner names this replica in the record (default "collector").
	Owner string
	Now   func() time.Time
	Log   *slog.Logger
}

// NewReconciler returns r with its defaults filled in.
func NewReconciler(r Reconciler) *Reconciler {
	if r.Interval <= 0 {
		r.Interval = time.Hour
	}
	if r.Check <= 0 {
		r.Check = time.Minute
	}
	if r.Owner == "" {
		r.Owner = "collector"
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	return &r
}

// Last returns the latest reconciliation (store.ErrNotFound before the
// first).
func (r *Reconciler) Last(ctx context.Context) (Reconciliation, error) {
	var last Reconciliation
	err := r.Store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableReconcile, lastReconcile)
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &last)
	})
	return last, err
}

// Once reconciles when one is due (the last started at least Interval
// ago, or force) and no other replica is reconciling: ErrNotDue and
// ErrReconcileBusy say why it did not. On demand (force) it waits for a
// reconciliation in progress, then does its own.
func (r *Reconciler) Once(ctx context.Context, force bool) (Reconciliation, error) {
	var lk store.Lock
	if force {
		l, err := r.Store.Lock(ctx, reconcileLock)
		if err != nil {
			return Reconciliation{}, err
		}
		lk = l
	} else {
		l, ok, err := r.Store.TryLock(ctx, reconcileLock)
		if err != nil {
			return Reconciliation{}, err
		}
		if !ok {
			return Reconciliation{}, ErrReconcileBusy
		}
		lk = l
	}
	defer func() { _ = lk.Release(context.WithoutCancel(ctx)) }()
	last, err := r.Last(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Reconciliation{}, err
	}
	now := r.Now().UTC()
	if err == nil && !force && now.Sub(last.Started) < r.Interval {
		return last, ErrNotDue
	}
	res, rerr := Reconcile(ctx, r.Apps, r.Inventory, r.Now)
	out := Reconciliation{Started: now, Finished: r.Now().UTC(), Result: res, By: r.Owner, Count: last.Count + 1}
	if rerr != nil {
		out.Error = rerr.Error()
	}
	if err := r.Store.Update(ctx, func(tx store.Tx) error {
		return putJSON(ctx, tx, tableReconcile, lastReconcile, out)
	}); err != nil {
		return out, fmt.Errorf("collector: recording the reconciliation: %w", err)
	}
	r.Log.Info("collector: reconciled", "known", res.Known, "added", res.Added, "updated", res.Updated, "removed", res.Removed, "err", rerr)
	return out, rerr
}

// Run reconciles on the schedule until ctx is done.
func (r *Reconciler) Run(ctx context.Context) {
	for {
		_, err := r.Once(ctx, false)
		if err != nil && !errors.Is(err, ErrNotDue) && !errors.Is(err, ErrReconcileBusy) && ctx.Err() == nil {
			r.Log.Error("collector: scheduled reconciliation", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.Check):
		}
	}
}
