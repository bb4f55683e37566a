package insights

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// Store tables of the background work: queued scans by scope (leased by
// the replica that runs them) and the status of triggerEvaluation
// operations by ID.
const (
	tableJobs       = JobsTable
	tableOperations = "insights.operations"
)

// job is a queued scan of one scope. Requests for a scope already queued
// merge into it.
type job struct {
	Scope string `json:"scope"`
	// Assignment, when set, limits the scan to one assignment (a lower-case
	// ID); requests for different assignments of a scope merge into a full
	// scan.
	Assignment string    `json:"assignment,omitempty"`
	Full       bool      `json:"full,omitempty"`
	Operations []string  `json:"operations,omitempty"`
	Queued     time.Time `json:"queued"`
}

// Operation is the status of a triggerEvaluation.
type Operation struct {
	ID        string    `json:"id"`
	Scope     string    `json:"scope"`
	Status    string    `json:"status"` // Running, Succeeded, Failed
	Created   time.Time `json:"created"`
	Completed time.Time `json:"completed,omitzero"`
	Error     string    `json:"error,omitempty"`
}

// Enqueue queues a scan of scope, merged with one already queued for it.
// opID, when set, names a triggerEvaluation operation completed with it.
func (e *Engine) Enqueue(ctx context.Context, scope, opID string) error {
	return e.enqueue(ctx, scope, "", opID)
}

// EnqueueAssignment queues a scan of scope for one assignment (merged with
// a scan queued for the scope).
func (e *Engine) EnqueueAssignment(ctx context.Context, scope, assignmentID string) error {
	return e.enqueue(ctx, scope, strings.ToLower(assignmentID), "")
}

func (e *Engine) enqueue(ctx context.Context, scope, assignment, opID string) error {
	key := strings.ToLower(strings.TrimRight(scope, "/"))
	if key == "" {
		key = "/"
	}
	err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		j := job{Scope: scope, Queued: e.now(), Assignment: assignment, Full: assignment == ""}
		if rec, err := tx.Get(ctx, tableJobs, key); err == nil {
			var was job
			if json.Unmarshal(rec.Value, &was) == nil {
				was.Full = was.Full || j.Full || was.Assignment != j.Assignment
				if was.Full {
					was.Assignment = ""
				}
				j = was
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if opID != "" {
			j.Operations = append(j.Operations, opID)
			op, _ := json.Marshal(Operation{ID: opID, Scope: scope, Status: "Running", Created: e.now()})
			if _, err := tx.Put(ctx, tableOperations, opID, op, store.IfAbsent()); err != nil {
				return err
			}
		}
		b, _ := json.Marshal(j)
		_, err := tx.Put(ctx, tableJobs, key, b, store.Cond{})
		return err
	})
	if err == nil {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	return err
}

// GetOperation returns a triggerEvaluation operation's status.
func (e *Engine) GetOperation(ctx context.Context, id string) (Operation, error) {
	var op Operation
	err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tableOperations, id)
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Value, &op)
	})
	return op, err
}

// Start runs the background worker until Stop: it takes queued scans
// under a lease and runs them, and queues the periodic full scan.
func (e *Engine) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stop = cancel
	e.done = make(chan struct{})
	e.remDone = make(chan struct{})
	go e.loop(ctx)
	go e.remediationLoop(ctx)
}

// Stop ends the workers and waits for the scan and the remediation in
// progress to stop (a stopped remediation resumes at the next Start).
func (e *Engine) Stop() {
	if e.stop != nil {
		e.stop()
		<-e.done
		<-e.remDone
	}
}

func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	tick := time.NewTicker(e.opts.Poll)
	defer tick.Stop()
	var cycle <-chan time.Time
	if e.opts.Cycle > 0 {
		t := time.NewTicker(e.opts.Cycle)
		defer t.Stop()
		cycle = t.C
	}
	for {
		for e.RunPending(ctx) > 0 && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-tick.C:
		case <-cycle:
			if err := e.Enqueue(ctx, "/", ""); err != nil {
				e.log.Error("queueing the periodic scan failed", "err", err)
			}
		}
	}
}

// RunPending takes one queued scan (if any other replica does not hold
// it), runs it and reports how many it ran (0 or 1).
func (e *Engine) RunPending(ctx context.Context) int {
	st := e.cloud.Store()
	leases, err := st.Acquire(ctx, tableJobs, "", e.opts.Owner, e.opts.LeaseTTL, 1)
	if err != nil || len(leases) == 0 {
		if err != nil && ctx.Err() == nil {
			e.log.Error("taking a compliance scan failed", "err", err)
		}
		return 0
	}
	l := leases[0]
	var j job
	if err := json.Unmarshal(l.Value, &j); err != nil {
		_ = st.Update(ctx, func(tx store.Tx) error { return tx.Delete(ctx, tableJobs, l.Key, store.Cond{}) })
		return 1
	}
	runCtx, release := e.keepLease(ctx, tableJobs, l.Key)
	var scanErr error
	if j.Full || j.Assignment == "" {
		scanErr = e.ScanScope(runCtx, j.Scope)
	} else {
		scanErr = e.ScanAssignment(runCtx, j.Scope, j.Assignment)
	}
	release()
	if ctx.Err() != nil {
		_ = st.Release(context.WithoutCancel(ctx), tableJobs, l.Key, e.opts.Owner)
		return 1
	}
	e.finish(ctx, l, j, scanErr)
	return 1
}

// finish removes the job (unless it was queued again while it ran; then
// only the lease is given up) and completes its operations.
func (e *Engine) finish(ctx context.Context, l store.Lease, j job, scanErr error) {
	st := e.cloud.Store()
	err := st.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(ctx, tableJobs, l.Key, store.IfMatch(l.ETag))
		if errors.Is(err, store.ErrPrecondition) || errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		if err != nil {
			return err
		}
		for _, id := range j.Operations {
			rec, err := tx.Get(ctx, tableOperations, id)
			if err != nil {
				continue
			}
			var op Operation
			if json.Unmarshal(rec.Value, &op) != nil {
				continue
			}
			op.Status, op.Completed = "Succeeded", e.now()
			if scanErr != nil {
				op.Status, op.Error = "Failed", "The evaluation did not complete."
			}
			b, _ := json.Marshal(op)
			if _, err := tx.Put(ctx, tableOperations, id, b, store.Cond{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.log.Error("completing a compliance scan failed", "scope", j.Scope, "err", err)
	}
	// The job survives when it was queued again meanwhile: give its lease
	// up so that it runs again (a no-op when it was deleted).
	_ = st.Release(ctx, tableJobs, l.Key, e.opts.Owner)
	if scanErr != nil {
		e.log.Error("compliance scan failed", "scope", j.Scope, "err", scanErr)
	}
}

// Pending reports whether a scan is queued or running, on any replica.
func (e *Engine) Pending(ctx context.Context) bool {
	pending := false
	_ = e.cloud.Store().View(ctx, func(tx store.Tx) error {
		page, err := tx.Scan(ctx, tableJobs, store.Query{Limit: 1, KeysOnly: true})
		pending = err == nil && len(page.Records) > 0
		return err
	})
	return pending
}

// JobsTable holds the queued compliance scans, leased by the replica that
// runs each (for operators' metrics).
const JobsTable = "insights.jobs"
