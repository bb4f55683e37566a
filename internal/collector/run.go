package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/store"
)

// The collector's store tables.
const (
	tableRuns   = "collector.runs"
	tableWork   = "collector.work"
	tableOutbox = "collector.outbox"
	tableFailed = "collector.failed"
	currentRun  = "current"
	startLock   = "collector.start"
)

// Run is one collection over every registered deployment, with one time
// window ($from, $to) for all of them.
type Run struct {
	ID          string    `json:"id"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished,omitzero"`
	Deployments int       `json:"deployments"`
	Collected   int       `json:"collected"`
	Failed      int       `json:"failed"`
	// Inaccessible counts the deployments the principal may not read:
	// recorded so before the run, or refused (403) during it. They are
	// listed among the run's failures with Inaccessible set.
	Inaccessible int  `json:"inaccessible"`
	Rows         int  `json:"rows"`
	Batches      int  `json:"batches"`
	Uploaded     int  `json:"uploaded"`
	Done         bool `json:"done"`
}

// item is one deployment's work in a run.
type item struct {
	Deployment Deployment `json:"deployment"`
	Attempts   int        `json:"attempts"`
	Throttled  int        `json:"throttled,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
}

// outboxBatch is a batch waiting for the ingestion API's acknowledgement.
// Sending is set, durably, before each send: a batch found with Sending
// set may already be in the table.
type outboxBatch struct {
	Batch
	Sending bool `json:"sending"`
}

// maxThrottled bounds the throttled attempts of one deployment in a run.
const maxThrottled = 20

// Failure is a deployment a run could not collect.
type Failure struct {
	ApplicationID string `json:"applicationId"`
	Error         string `json:"error"`
	// Inaccessible is set when the principal may not read the
	// deployment's managed resource group or application: the publisher's
	// definition does not authorize it (any more).
	Inaccessible bool `json:"inaccessible,omitempty"`
}

// ErrNotDue is returned by Start when the last run is finished and the
// next is not due yet.
var ErrNotDue = errors.New("no collection run is due")

// Start returns the run in progress, or begins a new one over the
// collectable deployments of the inventory when none is in progress and
// the last one started at least Interval ago (or force is set).
func (c *Collector) Start(ctx context.Context, force bool) (Run, error) {
	lk, err := c.opts.Store.Lock(ctx, startLock)
	if err != nil {
		return Run{}, err
	}
	defer func() { _ = lk.Release(context.WithoutCancel(ctx)) }()
	cur, err := c.Current(ctx)
	if err == nil && !cur.Done {
		return cur, nil
	}
	now := c.opts.Now().UTC()
	if err == nil && !force && now.Sub(cur.Started) < c.opts.Interval {
		return cur, ErrNotDue
	}
	deps, err := c.opts.Inventory.List(ctx)
	if err != nil {
		return Run{}, fmt.Errorf("collector: listing deployments: %w", err)
	}
	run := Run{ID: now.Format("20060102T150405Z") + "-" + uuid.NewString()[:8], To: now, From: now.Add(-c.opts.Lookback), Started: now}
	var items, inaccessible []store.Record
	for _, d := range deps {
		pk, rk := d.Key()
		if d.ProvisioningState == StateInaccessible {
			b, err := json.Marshal(inaccessibleFailure(d.ApplicationID, "the collector's principal may not read the application (recorded Inaccessible)"))
			if err != nil {
				return Run{}, err
			}
			inaccessible = append(inaccessible, store.Record{Key: run.ID + "/" + pk + "/" + rk, Value: b})
			continue
		}
		if !d.Collectable() {
			continue
		}
		b, err := json.Marshal(item{Deployment: d})
		if err != nil {
			return Run{}, err
		}
		items = append(items, store.Record{Key: run.ID + "/" + pk + "/" + rk, Value: b})
	}
	run.Deployments, run.Inaccessible = len(items), len(inaccessible)
	err = c.opts.Store.Update(ctx, func(tx store.Tx) error {
		for _, it := range items {
			if _, err := tx.Put(ctx, tableWork, it.Key, it.Value, store.Cond{}); err != nil {
				return err
			}
		}
		for _, f := range inaccessible {
			if _, err := tx.Put(ctx, tableFailed, f.Key, f.Value, store.Cond{}); err != nil {
				return err
			}
		}
		return putJSON(ctx, tx, tableRuns, currentRun, run)
	})
	if err != nil {
		return Run{}, fmt.Errorf("collector: starting a run: %w", err)
	}
	c.opts.Log.Info("collector: run started", "run", run.ID, "deployments", run.Deployments, "inaccessible", run.Inaccessible)
	return run, nil
}

// Current returns the latest run (store.ErrNotFound before the first).
func (c *Collector) Current(ctx context.Context) (Run, error) {
	var run Run
	err := c.opts.Store.View(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, tableRuns, currentRun)
		if err != nil {
			return err
		}
		return json.Unmarshal(r.Value, &run)
	})
	return run, err
}

// Failures lists the deployments a run could not collect.
func (c *Collector) Failures(ctx context.Context, runID string) ([]Failure, error) {
	var out []Failure
	err := c.opts.Store.View(ctx, func(tx store.Tx) error {
		q := store.Query{Prefix: runID + "/", Limit: store.MaxPageSize}
		for {
			p, err := tx.Scan(ctx, tableFailed, q)
			if err != nil {
				return err
			}
			for _, r := range p.Records {
				var f Failure
				if err := json.Unmarshal(r.Value, &f); err != nil {
					return err
				}
				out = append(out, f)
			}
			if p.Next == "" {
				return nil
			}
			q.After = p.Next
		}
	})
	return out, err
}

func putJSON(ctx context.Context, tx store.Tx, table, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Put(ctx, table, key, b, store.Cond{})
	return err
}

// addToRun applies f to the current run record inside tx.
func addToRun(ctx context.Context, tx store.Tx, runID string, f func(*Run)) error {
	r, err := tx.Get(ctx, tableRuns, currentRun)
	if err != nil {
		return err
	}
	var run Run
	if err := json.Unmarshal(r.Value, &run); err != nil {
		return err
	}
	if run.ID != runID {
		return nil
	}
	f(&run)
	return putJSON(ctx, tx, tableRuns, currentRun, run)
}

// backoff is the delay before retry attempt n (1-based): exponential from
// one second, capped at a minute, with full jitter.
func backoff(n int) time.Duration {
	d := time.Second << min(n, 6)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)))
}

// collectStep leases up to LeaseBatch work items of run, reads them with
// bounded concurrency, and in one transaction moves the successful ones
// into outbox batches. It reports how many items it leased.
func (c *Collector) collectStep(ctx context.Context, run Run) (int, error) {
	ttl := c.opts.DeploymentTimeout + 30*time.Second
	leases, err := c.opts.Store.Acquire(ctx, tableWork, run.ID+"/", c.opts.Owner, ttl, c.opts.LeaseBatch)
	if err != nil || len(leases) == 0 {
		return 0, err
	}
	type result struct {
		lease store.Lease
		it    item
		rows  []Row
		err   error
	}
	results := make([]result, len(leases))
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i, l := range leases {
		results[i].lease = l
		if err := json.Unmarshal(l.Value, &results[i].it); err != nil {
			results[i].err = fmt.Errorf("corrupt work item: %w", err)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(r *result) {
			defer func() { <-sem; wg.Done() }()
			r.rows, r.err = c.collectOne(ctx, run, r.it.Deployment)
		}(&results[i])
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	var rows []Row
	var done []result
	for _, r := range results {
		if r.err == nil {
			rows = append(rows, r.rows...)
			done = append(done, r)
			continue
		}
		if err := c.failOne(ctx, run, r.lease, r.it, r.err); err != nil {
			return 0, err
		}
	}
	batches, err := pack(rows, MaxBatchBytes, uuid.NewString)
	if err != nil {
		return 0, err
	}
	err = c.opts.Store.Update(ctx, func(tx store.Tx) error {
		for _, b := range batches {
			if err := putJSON(ctx, tx, tableOutbox, run.ID+"/"+b.ID, outboxBatch{Batch: b}); err != nil {
				return err
			}
		}
		for _, r := range done {
			if err := tx.Delete(ctx, tableWork, r.lease.Key, store.IfMatch(r.lease.ETag)); err != nil {
				return err
			}
		}
		return addToRun(ctx, tx, run.ID, func(run *Run) {
			run.Collected += len(done)
			run.Rows += len(rows)
			run.Batches += len(batches)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("collector: saving collected states: %w", err)
	}
	return len(leases), nil
}

// collectOne reads one deployment's states under its deadline.
func (c *Collector) collectOne(ctx context.Context, run Run, d Deployment) ([]Row, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.DeploymentTimeout)
	defer cancel()
	r, err := c.reader(d.TenantID)
	if err != nil {
		return nil, err
	}
	states, err := r.read(ctx, d, run.From, run.To)
	if err != nil {
		return nil, err
	}
	if d.TenantID == "" {
		d.TenantID = tenantFromStates(states)
	}
	return rowsOf(d, run.ID, run.To, states), nil
}

// failOne records a failed attempt: the item waits out a backoff (its
// lease is extended, so no replica takes it earlier), or after
// MaxAttempts becomes a Failure of the run.
func (c *Collector) failOne(ctx context.Context, run Run, l store.Lease, it item, cause error) error {
	var re *azcore.ResponseError
	if errors.As(cause, &re) && re.StatusCode == http.StatusForbidden {
		return c.inaccessibleOne(ctx, run, l, it, cause)
	}
	// Throttling is not the deployment's failure: it waits its turn
	// without spending an attempt, up to maxThrottled times.
	if errors.As(cause, &re) && re.StatusCode == http.StatusTooManyRequests && it.Throttled < maxThrottled {
		it.Throttled++
	} else {
		it.Attempts++
	}
	it.LastError = cause.Error()
	c.opts.Log.Warn("collector: deployment failed", "run", run.ID, "applicationId", it.Deployment.ApplicationID,
		"attempt", it.Attempts, "err", cause)
	if it.Attempts >= c.opts.MaxAttempts {
		return c.opts.Store.Update(ctx, func(tx store.Tx) error {
			if err := tx.Delete(ctx, tableWork, l.Key, store.IfMatch(l.ETag)); err != nil {
				return err
			}
			if err := putJSON(ctx, tx, tableFailed, l.Key, Failure{ApplicationID: it.Deployment.ApplicationID, Error: it.LastError}); err != nil {
				return err
			}
			return addToRun(ctx, tx, run.ID, func(run *Run) { run.Failed++ })
		})
	}
	if _, err := c.opts.Store.Renew(ctx, tableWork, l.Key, c.opts.Owner, backoff(max(it.Attempts, 1))); err != nil {
		return err
	}
	return c.opts.Store.Update(ctx, func(tx store.Tx) error {
		return putJSONIf(ctx, tx, tableWork, l.Key, it, l.ETag)
	})
}

func inaccessibleFailure(appID, why string) Failure {
	return Failure{ApplicationID: appID, Error: StateInaccessible + ": " + why, Inaccessible: true}
}

// inaccessibleOne ends a deployment ARM refused (403): retrying cannot
// help, since the principal lacks the access a definition's
// authorizations give. The run reports it, and the inventory records it
// Inaccessible, so later runs skip it until reconciliation finds the
// application readable again.
func (c *Collector) inaccessibleOne(ctx context.Context, run Run, l store.Lease, it item, cause error) error {
	c.opts.Log.Warn("collector: deployment not accessible to the principal", "run", run.ID, "applicationId", it.Deployment.ApplicationID, "err", cause)
	if err := c.opts.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, tableWork, l.Key, store.IfMatch(l.ETag)); err != nil {
			return err
		}
		if err := putJSON(ctx, tx, tableFailed, l.Key, inaccessibleFailure(it.Deployment.ApplicationID, cause.Error())); err != nil {
			return err
		}
		return addToRun(ctx, tx, run.ID, func(run *Run) { run.Inaccessible++ })
	}); err != nil {
		return err
	}
	pk, rk := it.Deployment.Key()
	d, err := c.opts.Inventory.Get(ctx, pk, rk)
	if err == nil && d.ProvisioningState != StateInaccessible {
		d.ProvisioningState, d.LastSeen = StateInaccessible, c.opts.Now().UTC()
		err = c.opts.Inventory.Put(ctx, d)
	}
	if err != nil && !errors.Is(err, ErrNoDeployment) {
		// The run has reported it; the next run finds it refused again.
		c.opts.Log.Warn("collector: recording a deployment Inaccessible", "applicationId", it.Deployment.ApplicationID, "err", err)
	}
	return nil
}

func putJSONIf(ctx context.Context, tx store.Tx, table, key string, v any, etag string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Put(ctx, table, key, b, store.IfMatch(etag))
	return err
}

// uploadStep leases outbox batches of run and sends them. It reports how
// many it leased.
func (c *Collector) uploadStep(ctx context.Context, run Run) (int, error) {
	leases, err := c.opts.Store.Acquire(ctx, tableOutbox, run.ID+"/", c.opts.Owner, c.opts.OutboxLease, c.opts.Concurrency)
	if err != nil || len(leases) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(leases))
	for i, l := range leases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.uploadOne(ctx, run, l)
		}()
	}
	wg.Wait()
	return len(leases), errors.Join(errs...)
}

func (c *Collector) uploadOne(ctx context.Context, run Run, l store.Lease) error {
	var b outboxBatch
	if err := json.Unmarshal(l.Value, &b); err != nil {
		return fmt.Errorf("collector: corrupt outbox batch %s: %w", l.Key, err)
	}
	etag := l.ETag
	if b.Sending && c.opts.Verify != nil {
		n, err := c.opts.Verify(ctx, b.ID)
		if err != nil {
			c.opts.Log.Warn("collector: verifying a batch", "batch", b.ID, "err", err)
			_, rerr := c.opts.Store.Renew(ctx, tableOutbox, l.Key, c.opts.Owner, backoff(1))
			return rerr
		}
		if n > 0 {
			// Sent before a crash: acknowledge without sending again.
			return c.ackBatch(ctx, run, l.Key, etag)
		}
	}
	if !b.Sending {
		b.Sending = true
		err := c.opts.Store.Update(ctx, func(tx store.Tx) error {
			v, err := json.Marshal(b)
			if err != nil {
				return err
			}
			r, err := tx.Put(ctx, tableOutbox, l.Key, v, store.IfMatch(etag))
			etag = r.ETag
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := c.opts.Upload(ctx, b.Gzip); err != nil {
		c.opts.Log.Warn("collector: upload failed", "batch", b.ID, "rows", b.Rows, "err", err)
		_, rerr := c.opts.Store.Renew(ctx, tableOutbox, l.Key, c.opts.Owner, backoff(2))
		return rerr
	}
	return c.ackBatch(ctx, run, l.Key, etag)
}

func (c *Collector) ackBatch(ctx context.Context, run Run, key, etag string) error {
	return c.opts.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delete(ctx, tableOutbox, key, store.IfMatch(etag)); err != nil {
			return err
		}
		return addToRun(ctx, tx, run.ID, func(run *Run) { run.Uploaded++ })
	})
}

// pending reports whether run has work items or batches left.
func (c *Collector) pending(ctx context.Context, run Run) (bool, error) {
	left := false
	err := c.opts.Store.View(ctx, func(tx store.Tx) error {
		for _, t := range []string{tableWork, tableOutbox} {
			p, err := tx.Scan(ctx, t, store.Query{Prefix: run.ID + "/", Limit: 1, KeysOnly: true})
			if err != nil {
				return err
			}
			if len(p.Records) > 0 {
				left = true
			}
		}
		return nil
	})
	return left, err
}

// Work does the run's work with the other replicas until none is left,
// then marks the run done and returns it.
func (c *Collector) Work(ctx context.Context, run Run) (Run, error) {
	for {
		n, err := c.collectStep(ctx, run)
		if err != nil {
			return run, err
		}
		m, err := c.uploadStep(ctx, run)
		if err != nil {
			c.opts.Log.Warn("collector: uploading", "run", run.ID, "err", err)
		}
		if n > 0 || m > 0 {
			continue
		}
		left, err := c.pending(ctx, run)
		if err != nil {
			return run, err
		}
		if !left {
			break
		}
		// Items backing off, or leased by another replica.
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	var out Run
	err := c.opts.Store.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Get(ctx, tableRuns, currentRun)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(r.Value, &out); err != nil {
			return err
		}
		if out.ID != run.ID || out.Done {
			return nil
		}
		out.Done, out.Finished = true, c.opts.Now().UTC()
		return putJSON(ctx, tx, tableRuns, currentRun, out)
	})
	if err == nil && out.ID == run.ID {
		c.opts.Log.Info("collector: run finished", "run", out.ID, "collected", out.Collected, "failed", out.Failed, "rows", out.Rows)
	}
	return out, err
}

// RunOnce starts (or joins) a run and works until it is done.
func (c *Collector) RunOnce(ctx context.Context, force bool) (Run, error) {
	run, err := c.Start(ctx, force)
	if err != nil {
		return run, err
	}
	return c.Work(ctx, run)
}

// Run collects on the schedule until ctx is done; a replica that finds a
// run in progress joins it.
func (c *Collector) Run(ctx context.Context) {
	for {
		if _, err := c.RunOnce(ctx, false); err != nil && !errors.Is(err, ErrNotDue) && ctx.Err() == nil {
			c.opts.Log.Error("collector: run", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}
