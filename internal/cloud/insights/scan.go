package insights

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/store"
)

// ScanScope evaluates every resource at and below scope (a management
// group or "/" covers its subscriptions) against the assignments in effect,
// replaces their policy states, and removes the states of resources that
// no longer exist there. Resources are read a page at a time, evaluated by
// Options.Workers goroutines, and each page's states are written in one
// transaction, so memory stays bounded by the page size.
func (e *Engine) ScanScope(ctx context.Context, scope string) error { return e.scan(ctx, scope, "") }

// ScanAssignment is ScanScope for one assignment: only its states are
// re-evaluated and replaced (removed, when it no longer exists). A changed
// assignment needs no more.
func (e *Engine) ScanAssignment(ctx context.Context, scope, assignmentID string) error {
	return e.scan(ctx, scope, strings.ToLower(assignmentID))
}

func (e *Engine) scan(ctx context.Context, scope, only string) error {
	for range 3 {
		ps, err := e.reload(ctx)
		if err != nil {
			return err
		}
		if err := e.scanWith(ctx, ps, scope, only); err != nil {
			return err
		}
		// A provider may publish a policy change after its write
		// committed (and queued this scan): scan again if what is
		// assigned changed meanwhile.
		if e.opts.Assignments == nil {
			return nil
		}
		now, err := e.loadPolicies(ctx)
		if err != nil {
			return err
		}
		if now == ps {
			return nil
		}
	}
	return nil
}

func (e *Engine) scanWith(ctx context.Context, ps *policies, scope, only string) error {
	env := newScanEnv(e)
	subs, err := e.subscriptionsIn(ctx, scope, env)
	if err != nil {
		return err
	}
	if subs == nil {
		return e.scanPrefix(ctx, ps, env, scope, only)
	}
	for _, s := range subs {
		if err := e.scanPrefix(ctx, ps, env, "/subscriptions/"+s, only); err != nil {
			return err
		}
	}
	return nil
}

// subscriptionsIn lists the subscriptions a tenant-level or management
// group scope covers; nil for other scopes.
func (e *Engine) subscriptionsIn(ctx context.Context, scope string, env *scanEnv) ([]string, error) {
	mg := ""
	if strings.Trim(scope, "/") != "" {
		r, err := arm.ParseResourceID(scope)
		if err != nil {
			return nil, err
		}
		if r.Kind() != arm.ScopeManagementGroup {
			return nil, nil
		}
		mg = r.ManagementGroup
	}
	subs := []string{}
	after := ""
	for {
		page, next, err := e.cloud.List(ctx, cloud.ListQuery{Type: cloud.TypeSubscription, Limit: store.MaxPageSize, After: after})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			sub := lastName(r.ID)
			_, names := env.groups(sub)
			if mg == "" || containsFold(names, mg) {
				subs = append(subs, sub)
			}
		}
		if next == "" {
			return subs, nil
		}
		after = next
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// scanPrefix scans one subscription, resource group or resource with
// everything below it. Reading, evaluating and writing overlap: one
// goroutine lists the next page while the workers evaluate the current one
// and another goroutine writes the states of the previous one.
//
// A scan that completes records when it started (recordScan): the states
// it found unchanged keep their rows, and queries report them as of then.
func (e *Engine) scanPrefix(ctx context.Context, ps *policies, env *scanEnv, scope, only string) error {
	started := e.now()
	seen := map[string]bool{}
	if r, err := e.cloud.Get(ctx, scope); err == nil {
		if evaluated(r.Type) {
			if err := e.evaluatePage(ctx, ps, env, []cloud.Resource{r}, seen, only); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []cloud.Resource, 1)
	listed := make(chan error, 1)
	go func() {
		defer close(pages)
		after := ""
		for {
			page, next, err := e.cloud.List(ctx, cloud.ListQuery{Scope: scope, Limit: store.MaxPageSize, After: after,
				Keep: func(r cloud.Resource) bool { return evaluated(r.Type) }})
			if err != nil {
				listed <- err
				return
			}
			select {
			case pages <- page:
			case <-ctx.Done():
				listed <- ctx.Err()
				return
			}
			if next == "" {
				listed <- nil
				return
			}
			after = next
		}
	}()
	batches := make(chan []batchItem, 1)
	written := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			if err == nil {
				if err = e.writeStates(ctx, b); err != nil {
					cancel() // stops the lister and the evaluation
				}
			}
		}
		written <- err
	}()
	var evalErr error
	for page := range pages {
		batch, err := e.evaluateBatch(ctx, ps, env, page, only)
		if err != nil {
			evalErr = err
			cancel()
			break
		}
		for _, r := range page {
			seen[strings.ToLower(r.ID)] = true
		}
		if len(batch) > 0 {
			batches <- batch
		}
	}
	close(batches)
	for range pages {
		// drain: the lister stops at the cancelled context
	}
	writeErr, listErr := <-written, <-listed
	// The first failure is the one to report: a cancelled context in the
	// other stages is its consequence.
	for _, err := range []error{writeErr, evalErr, listErr} {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if err := errors.Join(writeErr, evalErr, listErr); err != nil {
		return err
	}
	if only == "" { // the full scans sweep
		if err := e.sweep(ctx, scope, seen); err != nil {
			return err
		}
	}
	return e.recordScan(ctx, scope, only, started)
}

// evaluatePage evaluates a page of resources in parallel and writes their
// states in one transaction.
func (e *Engine) evaluatePage(ctx context.Context, ps *policies, env *scanEnv, page []cloud.Resource, seen map[string]bool, only string) error {
	batch, err := e.evaluateBatch(ctx, ps, env, page, only)
	if err != nil || len(batch) == 0 {
		return err
	}
	for _, r := range page {
		seen[strings.ToLower(r.ID)] = true
	}
	return e.writeStates(ctx, batch)
}

// evaluateBatch evaluates a page of resources with Options.Workers
// goroutines.
func (e *Engine) evaluateBatch(ctx context.Context, ps *policies, env *scanEnv, page []cloud.Resource, only string) ([]batchItem, error) {
	if len(page) == 0 {
		return nil, ctx.Err()
	}
	batch := make([]batchItem, len(page))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(e.opts.Workers, len(page)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				at := e.now()
				batch[i] = batchItem{id: page[i].ID, only: only, at: at, states: e.evaluate(ctx, ps, env, page[i], only)}
			}
		}()
	}
	for i := range page {
		next <- i
	}
	close(next)
	wg.Wait()
	return batch, ctx.Err()
}

// sweep removes the states below scope of resources the scan did not see.
func (e *Engine) sweep(ctx context.Context, scope string, seen map[string]bool) error {
	var gone []string
	start := ""
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = store.Keys(ctx, tx, tableStates, store.Query{Prefix: scopePrefix(scope), Start: start, Limit: store.MaxPageSize})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range page.Records {
			id := r.Key[:strings.IndexByte(r.Key, '|')]
			if !seen[id] && (len(gone) == 0 || gone[len(gone)-1] != id) {
				gone = append(gone, id)
			}
		}
		if page.Next == "" || len(page.Records) == 0 {
			break
		}
		start = page.Records[len(page.Records)-1].Key + "\x01"
	}
	for _, id := range gone {
		err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
			_, err := deletePrefix(ctx, tx, id+"|", nil)
			return err
		})
		e.cache.changed()
		if err != nil {
			return err
		}
	}
	return nil
}
