package insights

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	switch {
	case err != nil || w.conflict:
		c.event(cacheEvent{lo: w.lo, hi: w.hi})
	case len(w.states) > 0:
		states := make(map[string]*State, len(w.states))
		for k, s := range w.states {
			if s != nil {
				s = liteState(s)
			}
			states[k] = s
		}
		c.event(cacheEvent{lo: w.lo, hi: w.hi, states: states})
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
			e.cache.noted(notes.Take())
		}
		e.cache.enabled.Store(false)
	}()
	e.cache.enabled.Store(true)
}

// noted handles the notes of committed state writes: those of other
// engines drop the ranges they name, or everything.
func (c *stateCache) noted(payloads []string, lost bool) {
	if lost {
		c.changed()
		return
	}
	for _, p := range payloads {
		var n stateNote
		if p == "" || json.Unmarshal([]byte(p), &n) != nil || n.Origin == "" {
			c.changed()
			continue
		}
		if n.Origin != c.origin {
			c.drop(n.Lo, n.Hi)
		}
	}
}
