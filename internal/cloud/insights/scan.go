package insights

import (
	"context"
	"errors"
	"maps"
	"slices"
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
// goroutine lists the next page (and, in a full scan, the digest rows of
// its resources) while the workers evaluate the current one and another
// goroutine writes the states of the previous one.
//
// A full scan skips the resources whose digest (digest.go) is unchanged:
// their stored states are what evaluating them would give.
//
// A scan that completes records when it started (recordScan): the states
// it found unchanged keep their rows, and queries report them as of then.
func (e *Engine) scanPrefix(ctx context.Context, ps *policies, env *scanEnv, scope, only string) error {
	started := e.now()
	seen := map[string]bool{}
	if r, err := e.cloud.Get(ctx, scope); err == nil {
		if evaluated(r.Type) {
			seen[strings.ToLower(r.ID)] = true
			states := e.evaluate(ctx, ps, env, r, only)
			if err := e.writeStates(ctx, []batchItem{{id: r.ID, only: only, at: e.now(), states: states}}); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var dg *digester
	var types map[string]bool
	// A full scan of a scope without states (the first) has nothing to
	// sweep: what holds states when it ends was written by it or by the
	// write hook, whose deletes remove them again.
	sweep := true
	if only == "" {
		held, err := e.anyStates(ctx, scope)
		if err != nil {
			return err
		}
		sweep = held
		dg = e.newDigester(ps, env)
	} else {
		types = applicableTypes(ps.byID(only))
		dg = e.renewing(ps, env, only)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The scan of an assignment that names its types reads, meanwhile,
	// which resources hold a state of it: those it does not list lose
	// theirs at the end.
	type held struct {
		keys []string
		err  error
	}
	holders := make(chan held, 1)
	if only != "" && types != nil {
		go func() {
			keys, err := e.unseen(ctx, scope, only, nil)
			holders <- held{keys, err}
		}()
	}
	pages := make(chan listedPage, 1)
	listed := make(chan error, 1)
	// A full scan, or the scan of an assignment whose rules name no
	// types, lists the scope; the scan of one that names types lists
	// those types through the Cloud's type index.
	lists := []string{""}
	if types != nil {
		lists = slices.Sorted(maps.Keys(types))
	}
	go func() {
		defer close(pages)
		for _, typ := range lists {
			after := ""
			for {
				recs, next, err := e.cloud.ListStored(ctx, cloud.ListQuery{Scope: scope, Type: typ, Limit: store.MaxPageSize, After: after})
				lp := listedPage{recs: recs, types: types}
				switch {
				case err != nil || dg == nil || len(recs) == 0:
				case only == "":
					lp.digests, err = e.readDigests(ctx, recs[0].Key, recs[len(recs)-1].Key)
				default:
					lp.digests, err = e.digestsOf(ctx, recs)
				}
				if err != nil {
					listed <- err
					return
				}
				select {
				case pages <- lp:
				case <-ctx.Done():
					listed <- ctx.Err()
					return
				}
				if next == "" {
					break
				}
				after = next
			}
		}
		listed <- nil
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
		batch, err := e.evaluateBatch(ctx, ps, env, dg, page, only)
		if err == nil {
			err = encodeBatch(batch)
		}
		if err != nil {
			evalErr = err
			cancel()
			break
		}
		for _, r := range page.recs {
			seen[r.Key] = true
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
	switch {
	case only == "" && sweep: // the full scans sweep
		if err := e.sweep(ctx, scope, seen); err != nil {
			return err
		}
	case types != nil:
		// An earlier version of the assignment may have given states to
		// resources of other types: they go.
		h := <-holders
		if h.err != nil {
			return h.err
		}
		gone := h.keys[:0]
		for _, k := range h.keys {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		if err := e.sweepAssignment(ctx, only, types, gone); err != nil {
			return err
		}
	}
	return e.recordScan(ctx, scope, only, started)
}

// listedPage is a page of stored resources with the digest rows stored
// for them (by key) and, in the scan of an assignment whose rules name the
// types it applies to, those types.
type listedPage struct {
	recs    []cloud.StoredResource
	digests map[string]string
	types   map[string]bool
}

// evaluateBatch decodes and evaluates a page of resources with
// Options.Workers goroutines, skipping those of types without states and,
// with a digester, those whose digest did not change. It returns the
// items to write, in key order.
func (e *Engine) evaluateBatch(ctx context.Context, ps *policies, env *scanEnv, dg *digester, page listedPage, only string) ([]batchItem, error) {
	if len(page.recs) == 0 {
		return nil, ctx.Err()
	}
	batch := make([]batchItem, len(page.recs))
	keep := make([]bool, len(page.recs))
	var failed error
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(e.opts.Workers, len(page.recs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rec := page.recs[i]
				if page.types != nil && !page.types[strings.ToLower(rec.Type())] {
					continue // listed by another type's index (not expected)
				}
				sum := ""
				switch {
				case dg == nil:
				case only == "":
					sum = dg.sum(ctx, rec)
					if page.digests[rec.Key] == sum {
						continue
					}
				case dg.renews(strings.ToLower(rec.Type())):
					// The row stays true if it was true under the
					// snapshot before: the other inputs did not change.
					if old := page.digests[rec.Key]; old != "" && old == dg.prev.sum(ctx, rec) {
						sum = dg.sum(ctx, rec)
					}
				}
				r, err := rec.Decode()
				if err != nil {
					mu.Lock()
					failed = errors.Join(failed, err)
					mu.Unlock()
					continue
				}
				if !evaluated(r.Type) {
					continue
				}
				at := e.now()
				states := e.evaluate(ctx, ps, env, r, only)
				if dg == nil || !digestable(states) {
					sum = ""
				}
				batch[i] = batchItem{id: r.ID, only: only, at: at, states: states, digest: sum}
				keep[i] = true
			}
		}()
	}
	for i := range page.recs {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	out := batch[:0]
	run := 0
	for i, it := range batch {
		if !keep[i] {
			run++
			continue
		}
		it.run = run
		out = append(out, it)
	}
	// A few resources of a long page read their stored states one by
	// one rather than the page's whole key range.
	if 2*len(out) < len(page.recs) || page.types != nil {
		for i := range out {
			out[i].sparse = true
		}
	}
	return out, ctx.Err()
}

// unseen returns the resource keys of the states below scope (those of
// the assignment only, when set) whose resource the scan did not see (all
// of them with a nil seen), reading the state keys alone.
func (e *Engine) unseen(ctx context.Context, scope, only string, seen map[string]bool) ([]string, error) {
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
			return nil, err
		}
		for _, r := range page.Records {
			i := strings.IndexByte(r.Key, '|')
			id := r.Key[:i]
			if rest := r.Key[i+1:]; only != "" && !(strings.HasPrefix(rest, only) && strings.HasPrefix(rest[len(only):], "|")) {
				continue
			}
			if !seen[id] && (len(gone) == 0 || gone[len(gone)-1] != id) {
				gone = append(gone, id)
			}
		}
		if page.Next == "" || len(page.Records) == 0 {
			return gone, nil
		}
		start = page.Records[len(page.Records)-1].Key + "\x01"
	}
}

// sweepAssignment removes the assignment's states from the resources
// (keys) its scan did not evaluate that are of types it cannot apply to
// (left by an earlier version of it) or no longer stored. A resource of
// one of its types that the scan did not list (written meanwhile, and
// evaluated by the write hook) keeps them.
func (e *Engine) sweepAssignment(ctx context.Context, only string, types map[string]bool, gone []string) error {
	if len(gone) > 0 {
		stored, err := e.cloud.GetStored(ctx, gone)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, r := range stored {
			if types[strings.ToLower(r.Type())] {
				keep[r.Key] = true
			}
		}
		gone = slices.DeleteFunc(gone, func(k string) bool { return keep[k] })
	}
	for len(gone) > 0 {
		n := min(len(gone), store.MaxPageSize)
		batch := make([]batchItem, n)
		for i, id := range gone[:n] {
			batch[i] = batchItem{id: id, only: only, at: e.now(), sparse: true}
		}
		if err := e.writeStates(ctx, batch); err != nil {
			return err
		}
		gone = gone[n:]
	}
	return nil
}

// anyStates reports whether any state is stored below scope.
func (e *Engine) anyStates(ctx context.Context, scope string) (bool, error) {
	var page store.Page
	err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
		var err error
		page, err = store.Keys(ctx, tx, tableStates, store.Query{Prefix: scopePrefix(scope), Limit: 1})
		return err
	})
	return len(page.Records) > 0, err
}

// sweep removes the states below scope of resources the scan did not see.
func (e *Engine) sweep(ctx context.Context, scope string, seen map[string]bool) error {
	gone, err := e.unseen(ctx, scope, "", seen)
	if err != nil {
		return err
	}
	for _, id := range gone {
		err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
			if err := store.DeleteMany(ctx, tx, tableDigests, []string{id}); err != nil {
				return err
			}
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
