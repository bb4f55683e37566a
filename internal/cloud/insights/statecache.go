package insights

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/steward-gov/steward/internal/policy"
	"github.com/steward-gov/steward/internal/store"
)

// statesChannel is the store notification channel every committed write
// of policy states signals, on this replica and the others.
const statesChannel = "insights.states"

// stateCacheMax bounds the states the read cache holds, over all its
// scopes: some 300 bytes each without their evaluated expressions, so
// about 75 MB at the bound. A scope with more is read from the store on
// every query.
const stateCacheMax = 250_000

// stateCacheScopes bounds how many scopes (state-key prefixes) the cache
// holds; the least recently used goes first.
const stateCacheScopes = 8

// stateCache keeps, per state-key prefix, the decoded states below it,
// without their evaluated expressions, for the queries that read every
// state of a scope (summarize, queryResults): decoding 100,000 stored
// states cost seconds of CPU per query.
//
// It is exact, not a time-bounded approximation. This replica's own
// state writes are applied to the cached scopes after they commit
// (beginWrite, endWrite); every transaction that writes or removes states
// notifies statesChannel with a payload naming the writing engine and the
// key range written (stateNote), and a note from another engine (another
// replica, or another engine on this store) makes this one read that
// range again and apply it (refresh), or drop the cached scopes of the
// range when it is too wide. A note without a payload, one that cannot be
// read, or word that notes were lost (a PostgreSQL LISTEN session
// re-established) drops every scope. Coverage records (scan times) are not cached: they are
// applied to the cached stored times on every query.
//
// Two orders matter. A scope read from the store (readScope, in several
// transactions) is kept only with the events since it began applied:
// this replica's writes that ended meanwhile are applied to it, and a
// drop of its range meanwhile discards it. Two of this replica's writes
// of overlapping ranges in flight at once (a refresh counts as one) may
// commit in either order, so neither is applied: both drop their range.
type stateCache struct {
	// enabled is false until the engine has subscribed to statesChannel.
	enabled atomic.Bool
	// origin names this engine in its notes' payloads.
	origin string
	// scopeReads counts the reads of a scope from the store (readScope).
	scopeReads atomic.Uint64

	mu      sync.Mutex
	gen     uint64         // moved by every drop of all scopes
	entries []*cachedScope // most recently used last
	writes  []*stateWrite  // this replica's writes in flight
	reads   int            // readScopes in flight
	seq     uint64         // events so far
	// log holds the events since the oldest read in flight began: those
	// after event logBase. An event is a write's changes or a drop.
	log     []cacheEvent
	logBase uint64
	logKeys int
}

// cachedScope is every state whose key starts with prefix, in key order.
type cachedScope struct {
	prefix string
	keys   []string
	states []*State // Timestamp is the stored time
	// pending are writes applied since keys and states were last
	// rebuilt: the new state of each key, nil for a removed one. The
	// slices are never changed in place (lookups hand them out).
	pending map[string]*State
}

// cacheEvent is a committed write (states set) or a drop of the key
// range lo to hi. A write is exact when states are every state of the
// range: a refresh read them from the store.
type cacheEvent struct {
	lo, hi string
	states map[string]*State
	exact  bool
}

// rangeEnd is the end (exclusive) of the keys that start with a prefix up
// to hi.
func rangeEnd(hi string) string { return hi + "\U0010FFFF" }

// overlaps reports whether the keys starting with a prefix from lo to hi
// and those from lo2 to hi2 may meet. Keys are valid UTF-8, so no key
// holds the byte 0xff.
func overlaps(lo, hi, lo2, hi2 string) bool { return lo <= hi2+"\xff" && lo2 <= hi+"\xff" }

// changed drops every cached scope: what was cached before is stale.
func (c *stateCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropAll()
}

func (c *stateCache) dropAll() {
	c.gen++
	c.entries = nil
}

// drop removes the cached scopes that may hold keys from lo to hi, and
// tells the reads in flight.
func (c *stateCache) drop(lo, hi string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.event(cacheEvent{lo: lo, hi: hi})
}

// event applies an event to the cached scopes and logs it for the reads
// in flight. c.mu is held.
func (c *stateCache) event(ev cacheEvent) {
	c.entries = slices.DeleteFunc(c.entries, func(s *cachedScope) bool {
		if !overlaps(s.prefix, s.prefix, ev.lo, ev.hi) {
			return false
		}
		if ev.states == nil {
			return true
		}
		s.apply(ev)
		return len(s.keys)+len(s.pending) > stateCacheMax
	})
	c.seq++
	if c.reads == 0 {
		c.log, c.logBase, c.logKeys = nil, c.seq, 0
		return
	}
	c.log = append(c.log, ev)
	if c.logKeys += len(ev.states); c.logKeys > stateCacheMax {
		// The reads in flight will not be kept.
		c.log, c.logBase, c.logKeys = nil, c.seq, 0
	}
}

// apply records a write's states under the scope's prefix as pending;
// an exact one also removes the cached keys of its range it does not
// hold.
func (s *cachedScope) apply(ev cacheEvent) {
	pend := func(k string, st *State) {
		if s.pending == nil {
			s.pending = map[string]*State{}
		}
		s.pending[k] = st
	}
	if ev.exact {
		s.settle()
		end := rangeEnd(ev.hi)
		i, _ := slices.BinarySearch(s.keys, ev.lo)
		for ; i < len(s.keys) && s.keys[i] < end; i++ {
			if _, ok := ev.states[s.keys[i]]; !ok {
				pend(s.keys[i], nil)
			}
		}
	}
	for k, st := range ev.states {
		if strings.HasPrefix(k, s.prefix) {
			pend(k, st)
		}
	}
}

// holds reports whether a cached scope may hold keys from lo to hi.
func (c *stateCache) holds(lo, hi string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.entries, func(s *cachedScope) bool { return overlaps(s.prefix, s.prefix, lo, hi) })
}

// settle rebuilds keys and states with the pending writes, in one merge.
func (s *cachedScope) settle() {
	if len(s.pending) == 0 {
		return
	}
	pk := make([]string, 0, len(s.pending))
	for k := range s.pending {
		pk = append(pk, k)
	}
	slices.Sort(pk)
	keys := make([]string, 0, len(s.keys)+len(pk))
	states := make([]*State, 0, len(s.keys)+len(pk))
	i := 0
	for _, k := range pk {
		for ; i < len(s.keys) && s.keys[i] < k; i++ {
			keys, states = append(keys, s.keys[i]), append(states, s.states[i])
		}
		if i < len(s.keys) && s.keys[i] == k {
			i++ // replaced or removed
		}
		if st := s.pending[k]; st != nil {
			keys, states = append(keys, k), append(states, st)
		}
	}
	keys, states = append(keys, s.keys[i:]...), append(states, s.states[i:]...)
	s.keys, s.states, s.pending = keys, states, nil
}

// lookup returns a cached scope that holds every state under prefix: one
// whose prefix starts prefix; keys and states are the part under prefix.
func (c *stateCache) lookup(prefix string) ([]string, []*State, bool) {
	if !c.enabled.Load() {
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		s := c.entries[i]
		if !strings.HasPrefix(prefix, s.prefix) {
			continue
		}
		c.entries = append(slices.Delete(c.entries, i, i+1), s)
		s.settle()
		lo, _ := slices.BinarySearch(s.keys, prefix)
		hi := lo
		for hi < len(s.keys) && strings.HasPrefix(s.keys[hi], prefix) {
			hi++
		}
		return s.keys[lo:hi], s.states[lo:hi], true
	}
	return nil, nil, false
}

// readToken is where a read of the store began: the generation and the
// events so far.
type readToken struct{ gen, seq uint64 }

// beginRead notes a read of the store about to begin; finishRead must
// follow.
func (c *stateCache) beginRead() readToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return readToken{gen: c.gen, seq: c.seq}
}

// finishRead ends a read begun at t and, when s is not nil, keeps it
// with the events since t applied, unless one of them dropped its range
// or they are no longer all known; then it drops stale scopes and the
// least recently used beyond the bounds.
func (c *stateCache) finishRead(t readToken, s *cachedScope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads--
	defer func() {
		if c.reads == 0 {
			c.log, c.logBase, c.logKeys = nil, c.seq, 0
		}
	}()
	if s == nil || t.gen != c.gen || t.seq < c.logBase {
		return
	}
	for _, ev := range c.log[t.seq-c.logBase:] {
		if !overlaps(s.prefix, s.prefix, ev.lo, ev.hi) {
			continue
		}
		if ev.states == nil {
			return
		}
		s.apply(ev)
	}
	c.entries = slices.DeleteFunc(c.entries, func(o *cachedScope) bool { return strings.HasPrefix(o.prefix, s.prefix) })
	c.entries = append(c.entries, s)
	total := 0
	for _, o := range c.entries {
		total += len(o.keys) + len(o.pending)
	}
	for len(c.entries) > stateCacheScopes || (total > stateCacheMax && len(c.entries) > 1) {
		total -= len(c.entries[0].keys) + len(c.entries[0].pending)
		c.entries = c.entries[1:]
	}
}

// storedLite is stored without the evaluated expressions, which no
// query but $expand=PolicyEvaluationDetails reports: decoding skips them
// (its X, shallower than stored's, takes the "x" member).
type storedLite struct {
	stored
	X skipped `json:"x,omitempty"`
}

// skipped is a JSON value read and dropped.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// interner shares the copies of repeated strings (assignment and
// definition IDs, effects, types, management groups) among the states of
// one cached scope.
type interner map[string]string

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

func (in interner) all(ss []string) []string {
	for i, s := range ss {
		ss[i] = in.get(s)
	}
	return ss
}

// decodeLite decodes a stored state without its evaluated expressions,
// its repeated strings shared through in.
func decodeLite(key string, b []byte, in interner) (*State, error) {
	var v storedLite
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	s, err := v.stored.state(key)
	if err != nil {
		return nil, err
	}
	s.ResourceID, s.ResourceType, s.Location = in.get(s.ResourceID), in.get(s.ResourceType), in.get(s.Location)
	s.AssignmentID, s.DefinitionID, s.SetDefinitionID = in.get(s.AssignmentID), in.get(s.DefinitionID), in.get(s.SetDefinitionID)
	s.ReferenceID, s.Effect, s.State = in.get(s.ReferenceID), in.get(s.Effect), policy.ComplianceState(in.get(string(s.State)))
	s.GroupNames, s.ManagementGroups = in.all(s.GroupNames), in.all(s.ManagementGroups)
	return s, nil
}

// readScope reads every state under prefix from the store, without
// expressions, and caches them when they are few enough.
func (e *Engine) readScope(ctx context.Context, prefix string) ([]string, []*State, error) {
	e.cache.scopeReads.Add(1)
	tok := e.cache.beginRead()
	var keep *cachedScope
	defer func() { e.cache.finishRead(tok, keep) }()
	in := interner{}
	var keys []string
	var states []*State
	after := ""
	for {
		var page store.Page
		err := e.cloud.Store().View(ctx, func(tx store.Tx) error {
			var err error
			page, err = tx.Scan(ctx, tableStates, store.Query{Prefix: prefix, Limit: store.MaxPageSize, After: after})
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range page.Records {
			s, err := decodeLite(r.Key, r.Value, in)
			if err != nil {
				e.log.Warn("undecodable policy state skipped", "key", r.Key, "err", err)
				continue
			}
			keys = append(keys, r.Key)
			states = append(states, s)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	// Keys come in the store's key order; lookups and resumed pages
	// search them in Go's.
	if !slices.IsSorted(keys) {
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		k2, s2 := make([]string, len(keys)), make([]*State, len(keys))
		for i, j := range idx {
			k2[i], s2[i] = keys[j], states[j]
		}
		keys, states = k2, s2
	}
	if len(keys) <= stateCacheMax {
		keep = &cachedScope{prefix: prefix, keys: keys, states: states}
	}
	return keys, states, nil
}
