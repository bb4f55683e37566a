package insights

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// This replica's state writes and the notes of every engine's: how the
// read cache (statecache.go) follows the states.

// stateWrite is one of this replica's state writes: the range of
// resource key prefixes it may touch, and the states its last attempt
// wrote (nil for a removed key).
type stateWrite struct {
	lo, hi   string
	conflict bool
	states   map[string]*State
	// exact says that states are every state of the range (a refresh).
	exact bool
}

// beginWrite notes a write of this replica that may touch the states of
// the resource key prefixes from lo to hi; endWrite must follow. A write
// of an overlapping range in flight makes both conflict.
func (c *stateCache) beginWrite(lo, hi string) *stateWrite {
	w := &stateWrite{lo: lo, hi: hi}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, o := range c.writes {
		if overlaps(lo, hi, o.lo, o.hi) {
			o.conflict, w.conflict = true, true
		}
	}
	c.writes = append(c.writes, w)
	return w
}

// reset starts an attempt of the write's transaction.
func (w *stateWrite) reset() { w.states = map[string]*State{} }

// put and remove record what the attempt writes.
func (w *stateWrite) put(k string, s *State) { w.states[k] = s }
func (w *stateWrite) remove(k string)        { w.states[k] = nil }

// notify names the write in the transaction's notification.
func (w *stateWrite) notify(ctx context.Context, tx store.Tx, origin string) error {
	b, err := json.Marshal(stateNote{Origin: origin, Lo: w.lo, Hi: w.hi})
	if err != nil || len(b) > store.MaxNotePayload {
		return tx.Notify(ctx, statesChannel) // every replica drops all
	}
	return tx.NotifyPayload(ctx, statesChannel, string(b))
}

// endWrite applies a write that committed (err nil) to the cached
// scopes. One that failed (it may have committed nonetheless) or that
// conflicted drops its range instead.
func (c *stateCache) endWrite(w *stateWrite, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = slices.DeleteFunc(c.writes, func(o *stateWrite) bool { return o == w })
	idle := c.reads == 0 && !slices.ContainsFunc(c.entries, func(s *cachedScope) bool { return overlaps(s.prefix, s.prefix, w.lo, w.hi) })
	switch {
	case err != nil || w.conflict || idle:
		// Nothing cached or being read needs the states: the event only
		// counts (a first scan writes every state with nothing cached).
		c.event(cacheEvent{lo: w.lo, hi: w.hi})
	case len(w.states) > 0 || w.exact:
		states := make(map[string]*State, len(w.states))
		for k, s := range w.states {
			if s != nil {
				s = liteState(s)
			}
			states[k] = s
		}
		c.event(cacheEvent{lo: w.lo, hi: w.hi, states: states, exact: w.exact})
	}
}

// liteState is a written state as the cache holds it, as decodeLite reads
// it back: without expressions, its time in milliseconds, UTC.
func liteState(s *State) *State {
	c := *s
	c.Timestamp = time.UnixMilli(s.Timestamp.UnixMilli()).UTC()
	c.Expressions = nil
	c.Tags = maps.Clone(s.Tags)
	c.GroupNames, c.ManagementGroups = slices.Clone(s.GroupNames), slices.Clone(s.ManagementGroups)
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if len(c.GroupNames) == 0 {
		c.GroupNames = nil
	}
	if len(c.ManagementGroups) == 0 {
		c.ManagementGroups = nil
	}
	return &c
}

// stateNote is the payload of a state write's notification: the engine
// that wrote and the range of resource key prefixes written.
type stateNote struct {
	Origin string `json:"o"`
	Lo     string `json:"lo"`
	Hi     string `json:"hi"`
}

// watchStates subscribes the cache to the states channel; until it has,
// queries read the store.
func (e *Engine) watchStates() {
	var id [12]byte
	_, _ = rand.Read(id[:])
	e.cache.origin = hex.EncodeToString(id[:])
	notes, err := e.cloud.Store().SubscribeNotes(statesChannel)
	if err != nil {
		e.log.Warn("no state change notifications; queries read every state from the store", "err", err)
		return
	}
	go func() {
		for range notes.C { // ends when the store closes
			e.noted(notes.Take())
		}
		e.cache.enabled.Store(false)
	}()
	e.cache.enabled.Store(true)
}

// noted handles the notes of committed state writes: those of other
// engines refresh the ranges they name, or drop everything.
func (e *Engine) noted(payloads []string, lost bool) {
	if lost {
		e.cache.changed()
		return
	}
	for _, p := range payloads {
		var n stateNote
		if p == "" || json.Unmarshal([]byte(p), &n) != nil || n.Origin == "" {
			e.cache.changed()
			continue
		}
		if n.Origin != e.cache.origin {
			e.refresh(n.Lo, n.Hi)
		}
	}
}

// refreshMax bounds the states a refresh reads; the cached scopes that
// hold a wider range are dropped instead.
const refreshMax = 5 * store.MaxPageSize

// refreshTimeout bounds a refresh's read.
const refreshTimeout = 10 * time.Second

// errRefreshTooWide stops a refresh of more than refreshMax states.
var errRefreshTooWide = errors.New("insights: range too wide to refresh")

// refresh brings another engine's committed write of the resource key
// prefixes lo to hi into the cached scopes that hold that range: the
// range's states are read again, in one transaction begun after the
// commit (its note arrives after it), and replace the cached ones. It is
// ordered against this replica's writes as one of them is (a write of the
// range in flight meanwhile makes both drop the range); a read that
// fails or finds too many states drops the range.
func (e *Engine) refresh(lo, hi string) {
	c := &e.cache
	if !c.holds(lo, hi) {
		c.drop(lo, hi)
		return
	}
	w := c.beginWrite(lo, hi)
	w.exact = true
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	in := interner{}
	err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
		w.reset()
		q := store.Query{Start: lo, End: rangeEnd(hi), Limit: store.MaxPageSize}
		for {
			page, err := tx.Scan(ctx, tableStates, q)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				// An undecodable state is left out, as readScope does.
				if s, err := decodeLite(r.Key, r.Value, in); err == nil {
					w.put(r.Key, s)
				}
			}
			if page.Next == "" {
				return nil
			}
			if len(w.states) >= refreshMax {
				return errRefreshTooWide
			}
			q.After = page.Next
		}
	})
	c.endWrite(w, err)
}
