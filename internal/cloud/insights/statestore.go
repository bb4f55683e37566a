package insights

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// batchItem is the new set of states of one resource, evaluated at at.
type batchItem struct {
	id string
	// only, when set, is the lower-case ID of the one assignment whose
	// states the item replaces; the others stay.
	only   string
	at     time.Time
	states []*State
	// digest, in an item of every assignment, is the digest of the inputs
	// the states were evaluated from (digest.go); empty when they may not
	// be trusted, and the resource's digest row is then removed.
	digest string
	// sparse says the batch holds a part of a long key range: the stored
	// states are read per run of items adjacent in that range (run numbers
	// them) rather than over the whole range.
	sparse bool
	run    int
	// keys and enc are the states' keys and encoded values (encode):
	// filled by the scan's evaluation, so that the writer, which a scan
	// waits for, does not spend its time on them.
	keys []string
	enc  [][]byte
}

// encode fills the item's keys and encoded states, lower holding the
// lower-case assignment IDs met so far.
func (it *batchItem) encode(lower map[string]string) error {
	if it.enc != nil {
		return nil
	}
	rp := resourcePrefix(it.id)
	it.keys = make([]string, len(it.states))
	it.enc = make([][]byte, len(it.states))
	for j, s := range it.states {
		a, ok := lower[s.AssignmentID]
		if !ok {
			a = strings.ToLower(s.AssignmentID)
			lower[s.AssignmentID] = a
		}
		k := stateKeyIn(rp, a, s.ReferenceID)
		b, err := s.encode(k)
		if err != nil {
			return err
		}
		it.keys[j], it.enc[j] = k, b
	}
	return nil
}

// encodeBatch encodes every item of the batch (batchItem.encode).
func encodeBatch(batch []batchItem) error {
	lower := map[string]string{}
	for i := range batch {
		if err := batch[i].encode(lower); err != nil {
			return err
		}
	}
	return nil
}

// writeStates replaces the states of each resource in the batch with its
// new ones, in one transaction: states of assignments that no longer apply
// are removed. In a scan batch, a resource whose stored states are newer
// than its evaluation (a write was evaluated by the hook meanwhile) is left
// as it is, and a state whose stored content equals the new one but for
// its timestamp is not rewritten: the scan's coverage record (scans.go)
// renews its timestamp for queries.
func (e *Engine) writeStates(ctx context.Context, batch []batchItem) error {
	if err := encodeBatch(batch); err != nil {
		return err
	}
	w := e.cache.beginWrite(batchRange(batch))
	err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		w.reset()
		var existing map[string]map[string]oldState
		var err error
		switch {
		case len(batch) > 0 && batch[0].sparse:
			existing, err = eachStates(ctx, tx, batch)
		case len(batch) >= rangeSweepMin:
			existing, err = rangeStates(ctx, tx, batch)
		}
		if err != nil {
			return err
		}
		var puts, inserts, digests []store.Entry
		var gone, undigested []string
		for _, it := range batch {
			rp := resourcePrefix(it.id)
			prefix := rp
			if it.only != "" {
				prefix += it.only + "|"
			}
			old := existing[rp]
			if newerThan(old, it.at) {
				continue
			}
			// A write without a digest drops the resource's row, an
			// assignment's scan's too: the gens are drawn from the
			// policies' documents, so a row it left could match again
			// once its change is reversed, over states it rewrote.
			if it.digest != "" {
				digests = append(digests, store.Entry{Key: digestKey(it.id), Value: []byte(it.digest)})
			} else {
				undigested = append(undigested, digestKey(it.id))
			}
			keep := make(map[string]bool, len(it.states))
			for j, s := range it.states {
				k := it.keys[j]
				keep[k] = true
				// Only the states the scan's coverage record names may
				// keep their row: in an assignment's scan, the other
				// assignments' states (renewed for a conflict) are
				// written.
				o, stored := old[k]
				if stored && (it.only == "" || strings.EqualFold(s.AssignmentID, it.only)) &&
					sameContent(o.v, it.enc[j]) {
					continue
				}
				if !stored && existing != nil {
					// The range read found no such key: inserted, not
					// upserted (store.InsertMany).
					inserts = append(inserts, store.Entry{Key: k, Value: it.enc[j]})
				} else {
					puts = append(puts, store.Entry{Key: k, Value: it.enc[j]})
				}
				w.put(k, s)
			}
			if existing == nil {
				if _, err := deleteKeys(ctx, tx, prefix, keep, w, e.cache.origin); err != nil {
					return err
				}
				continue
			}
			for k := range old {
				if !keep[k] && strings.HasPrefix(k, prefix) {
					gone = append(gone, k)
					w.remove(k)
				}
			}
		}
		// The states are written in a few multi-row statements rather
		// than one per state: on SQLite the per-statement cost was most
		// of a scan.
		if err := store.DeleteMany(ctx, tx, tableStates, gone); err != nil {
			return err
		}
		if err := store.DeleteMany(ctx, tx, tableDigests, undigested); err != nil {
			return err
		}
		if err := store.PutMany(ctx, tx, tableDigests, digests); err != nil {
			return err
		}
		if len(puts) > 0 || len(inserts) > 0 || len(gone) > 0 {
			if err := w.notify(ctx, tx, e.cache.origin); err != nil {
				return err
			}
		}
		if err := store.InsertMany(ctx, tx, tableStates, inserts); err != nil {
			return err
		}
		return store.PutMany(ctx, tx, tableStates, puts)
	})
	if afterStatesCommit != nil {
		afterStatesCommit()
	}
	// The cache of this replica serves this commit from now on, before
	// and whether or not its notification arrives.
	e.cache.endWrite(w, err)
	return err
}

// afterStatesCommit, when set (by tests), runs between writeStates'
// commit and its update of the cache.
var afterStatesCommit func()

// batchRange is the range of the batch's resource key prefixes.
func batchRange(batch []batchItem) (lo, hi string) {
	for i, it := range batch {
		p := resourcePrefix(it.id)
		if i == 0 || p < lo {
			lo = p
		}
		if p > hi {
			hi = p
		}
	}
	return lo, hi
}

// oldState is a stored state as writeStates compares it: its evaluation
// time (Unix milliseconds) and its encoded value.
type oldState struct {
	t int64
	v []byte
}

// sameContent reports whether two encoded states are equal but for their
// timestamps. State.encode writes the timestamp first and everything else
// deterministically (struct fields in order, map keys sorted), so the
// bytes after it compare.
func sameContent(a, b []byte) bool {
	_, ra, ok1 := splitTime(a)
	_, rb, ok2 := splitTime(b)
	return ok1 && ok2 && bytes.Equal(ra, rb)
}

// rangeSweepMin is the batch size from which a batch's stored states are
// read with one range scan rather than one scan per resource.
const rangeSweepMin = 8

// rangeStates reads the stored states of the batch's resources, by
// resource key prefix, with their timestamps and values: one scan of the key range
// from the lowest to the highest resource of the batch (a scan page is
// contiguous in key order, so the range holds little else).
func rangeStates(ctx context.Context, tx store.Tx, batch []batchItem) (map[string]map[string]oldState, error) {
	out := make(map[string]map[string]oldState, len(batch))
	lo, hi := "", ""
	for i, it := range batch {
		p := resourcePrefix(it.id)
		out[p] = nil
		if i == 0 || p < lo {
			lo = p
		}
		if p > hi {
			hi = p
		}
	}
	q := store.Query{Start: lo, End: hi + "\U0010FFFF", Limit: store.MaxPageSize}
	for {
		page, err := tx.Scan(ctx, tableStates, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			p := r.Key[:strings.IndexByte(r.Key, '|')+1]
			m, ok := out[p]
			if !ok {
				continue
			}
			if m == nil {
				m = map[string]oldState{}
				out[p] = m
			}
			m[r.Key] = oldState{t: storedTime(r.Value), v: r.Value}
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

// eachStates is rangeStates for a sparse batch: one range read per run
// of adjacent resources.
func eachStates(ctx context.Context, tx store.Tx, batch []batchItem) (map[string]map[string]oldState, error) {
	out := make(map[string]map[string]oldState, len(batch))
	for len(batch) > 0 {
		n := 1
		for n < len(batch) && batch[n].run == batch[0].run {
			n++
		}
		m, err := rangeStates(ctx, tx, batch[:n])
		if err != nil {
			return nil, err
		}
		maps.Copy(out, m)
		batch = batch[n:]
	}
	return out, nil
}

// storedTime is the evaluation time (Unix milliseconds) of an encoded
// state. State.encode writes it first, so it is read without decoding the
// rest; a value of another shape is decoded in full.
func storedTime(v []byte) int64 {
	if t, _, ok := splitTime(v); ok {
		return t
	}
	var ts struct {
		T int64 `json:"t"`
	}
	_ = json.Unmarshal(v, &ts)
	return ts.T
}

// splitTime reads the leading timestamp of an encoded state and returns
// it with the rest of the value; false for a value of another shape.
func splitTime(v []byte) (int64, []byte, bool) {
	const lead = `{"t":`
	if !bytes.HasPrefix(v, []byte(lead)) {
		return 0, nil, false
	}
	var t int64
	i := len(lead)
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		t = t*10 + int64(v[i]-'0')
	}
	if i == len(lead) || i >= 19+len(lead) || i == len(v) || (v[i] != ',' && v[i] != '}') {
		return 0, nil, false
	}
	return t, v[i:], true
}

// newerThan reports whether any stored state is from after at.
func newerThan(old map[string]oldState, at time.Time) bool {
	ms := at.UnixMilli()
	for _, o := range old {
		if o.t > ms {
			return true
		}
	}
	return false
}

// deleteStates removes every state of a resource and of what sits below
// it (a deleted resource group's resources).
func (e *Engine) deleteStates(ctx context.Context, id string) error {
	lo, hi := scopePrefix(id), resourcePrefix(id) // "{id}/" < "{id}|"
	w := e.cache.beginWrite(min(lo, hi), max(lo, hi))
	err := e.cloud.Store().Update(ctx, func(tx store.Tx) error {
		w.reset()
		if err := deleteDigests(ctx, tx, id); err != nil {
			return err
		}
		if _, err := deleteKeys(ctx, tx, resourcePrefix(id), nil, w, e.cache.origin); err != nil {
			return err
		}
		_, err := deleteKeys(ctx, tx, scopePrefix(id), nil, w, e.cache.origin)
		return err
	})
	e.cache.endWrite(w, err)
	return err
}

// deletePrefix deletes the state keys with prefix that keep does not
// hold, and returns how many it deleted. When it deletes any, it
// notifies statesChannel at commit, without saying which; the caller
// drops this replica's cache after the commit.
func deletePrefix(ctx context.Context, tx store.Tx, prefix string, keep map[string]bool) (int, error) {
	return deleteKeys(ctx, tx, prefix, keep, nil, "")
}

// deleteKeys is deletePrefix that, with a write w, records the deleted
// keys in w and notifies as w (origin is this engine's).
func deleteKeys(ctx context.Context, tx store.Tx, prefix string, keep map[string]bool, w *stateWrite, origin string) (int, error) {
	if prefix == "" || prefix == "|" {
		return 0, nil
	}
	after := ""
	n := 0
	for {
		page, err := store.Keys(ctx, tx, tableStates, store.Query{Prefix: prefix, Limit: store.MaxPageSize, After: after})
		if err != nil {
			return n, err
		}
		var gone []string
		for _, r := range page.Records {
			if !keep[r.Key] {
				gone = append(gone, r.Key)
				if w != nil {
					w.remove(r.Key)
				}
			}
		}
		if err := store.DeleteMany(ctx, tx, tableStates, gone); err != nil {
			return n, err
		}
		if len(gone) > 0 && n == 0 {
			var err error
			if w != nil {
				err = w.notify(ctx, tx, origin)
			} else {
				err = tx.Notify(ctx, statesChannel)
			}
			if err != nil {
				return n, err
			}
		}
		n += len(gone)
		if page.Next == "" {
			return n, nil
		}
		after = page.Next
	}
}

// scanStates calls fn with the states whose keys start with prefix, in key
// order, from the key start on (inclusive; "" for the first). fn returns
// false to stop before the state it was given; scanStates then returns
// that state's key, where a later scan resumes ("" when none is left).
// mode says whether the read cache (statecache.go) may serve the states
// (then without their evaluated expressions, and fn must not change them
// but for their Timestamp) and whether a miss fills it.
//
// A state's Timestamp is the later of its stored time and the last
// completed scan that covered it (coverage.at).
func (e *Engine) scanStates(ctx context.Context, prefix, start string, mode readMode, fn func(s *State) bool) (string, error) {
	return e.scanKeyedStates(ctx, prefix, start, mode, func(_ string, s *State) bool { return fn(s) })
}

// readMode is how scanStates reads.
type readMode int

const (
	// readStore reads the store, states with their expressions.
	readStore readMode = iota
	// readCached reads the cache, filling it from the store on a miss:
	// for reads of every state of a scope.
	readCached
	// readCachedIfPresent reads the cache when it holds the scope and
	// the store otherwise: for reads that may stop early (a page of
	// $top states), which a miss would make read every state.
	readCachedIfPresent
)

// scanKeyedStates is scanStates whose fn is given each state's key too.
func (e *Engine) scanKeyedStates(ctx context.Context, prefix, start string, mode readMode, fn func(key string, s *State) bool) (string, error) {
	cov, err := e.loadCoverage(ctx)
	if err != nil {
		return "", err
	}
	keys, states, ok := []string(nil), []*State(nil), false
	if mode != readStore {
		keys, states, ok = e.cache.lookup(prefix)
		if !ok && mode == readCached && e.cache.enabled.Load() {
			if keys, states, err = e.readScope(ctx, prefix); err != nil {
				return "", err
			}
			ok = true
		}
	}
	if ok {
		i, _ := slices.BinarySearch(keys, start)
		for ; i < len(keys); i++ {
			s := *states[i]
			s.Timestamp = cov.at(keys[i], s.Timestamp)
			if !fn(keys[i], &s) {
				return keys[i], nil
			}
		}
		return "", nil
	}
	after := ""
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(ctx, tableStates, store.Query{Prefix: prefix, Start: start, Limit: store.MaxPageSize, After: after})
			return err
		})
		if err != nil {
			return "", err
		}
		for _, r := range page.Records {
			s, err := decodeState(r.Key, r.Value)
			if err != nil {
				e.log.Warn("undecodable policy state skipped", "key", r.Key, "err", err)
				continue
			}
			s.Timestamp = cov.at(r.Key, s.Timestamp)
			if !fn(r.Key, s) {
				return r.Key, nil
			}
		}
		if page.Next == "" {
			return "", nil
		}
		after = page.Next
	}
}

// loadBatch is how many resources LoadStates writes per transaction.
const loadBatch = 500

// LoadStates stores states as given, for bulk loads (an import of states
// evaluated elsewhere, a benchmark's estate): each resource's states
// replace its stored ones, loadBatch resources per transaction, without
// evaluating anything. A later scan that finds the resource replaces them
// with its own evaluation, and one that finds no resource removes them.
func (e *Engine) LoadStates(ctx context.Context, states []*State) error {
	var batch []batchItem
	at := map[string]int{}
	for _, s := range states {
		if s == nil || s.ResourceID == "" || s.AssignmentID == "" {
			return errors.New("insights: a loaded state needs a resource ID and an assignment ID")
		}
		k := resourcePrefix(s.ResourceID)
		i, ok := at[k]
		if !ok {
			i = len(batch)
			at[k] = i
			batch = append(batch, batchItem{id: s.ResourceID})
		}
		batch[i].states = append(batch[i].states, s)
		if s.Timestamp.After(batch[i].at) {
			batch[i].at = s.Timestamp
		}
	}
	// In key order, so that each transaction's range read of the stored
	// states covers its own resources only: unsorted, a batch spanning
	// several subscriptions read every state loaded before between them,
	// and a 500,000-state load slowed down as it grew.
	sort.Slice(batch, func(i, j int) bool { return resourcePrefix(batch[i].id) < resourcePrefix(batch[j].id) })
	for len(batch) > 0 {
		n := min(len(batch), loadBatch)
		if err := e.writeStates(ctx, batch[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}
