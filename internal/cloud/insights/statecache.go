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
// It is exact, not a time-bounded approximation: every transaction that
// writes or removes states calls Tx.Notify(statesChannel), and the
// engine moves gen when it is signalled (after a commit on any replica,
// and once for every subscriber when a PostgreSQL LISTEN session is
// re-established, since commits in between may have been missed) and
// right after each of its own commits. A read takes gen before it reads
// the store and keeps what it read under that gen; it is used only while
// gen has not moved. Coverage records (scan times) are not cached: they
// are applied to the cached stored times on every query.
type stateCache struct {
	// enabled is false until the engine has subscribed to statesChannel.
	enabled atomic.Bool
	gen     atomic.Uint64

	mu      sync.Mutex
	entries []*cachedScope // most recently used last
}

// cachedScope is every state whose key starts with prefix, in key order.
type cachedScope struct {
	prefix string
	gen    uint64
	keys   []string
	states []*State // Timestamp is the stored time
}

// changed moves the generation: what was cached before is stale.
func (c *stateCache) changed() { c.gen.Add(1) }

// lookup returns a cached scope that holds every state under prefix: one
// whose prefix starts prefix, cached in the current generation; keys and
// states are the part under prefix.
func (c *stateCache) lookup(prefix string) ([]string, []*State, bool) {
	if !c.enabled.Load() {
		return nil, nil, false
	}
	gen := c.gen.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.entries) - 1; i >= 0; i-- {
		s := c.entries[i]
		if s.gen != gen || !strings.HasPrefix(prefix, s.prefix) {
			continue
		}
		c.entries = append(slices.Delete(c.entries, i, i+1), s)
		lo, _ := slices.BinarySearch(s.keys, prefix)
		hi := lo
		for hi < len(s.keys) && strings.HasPrefix(s.keys[hi], prefix) {
			hi++
		}
		return s.keys[lo:hi], s.states[lo:hi], true
	}
	return nil, nil, false
}

// put keeps a scope read under generation gen, dropping stale scopes and
// the least recently used beyond the bounds.
func (c *stateCache) put(s *cachedScope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.gen.Load()
	if s.gen != cur {
		return
	}
	c.entries = slices.DeleteFunc(c.entries, func(o *cachedScope) bool {
		return o.gen != cur || strings.HasPrefix(o.prefix, s.prefix)
	})
	c.entries = append(c.entries, s)
	total := 0
	for _, o := range c.entries {
		total += len(o.keys)
	}
	for len(c.entries) > stateCacheScopes || (total > stateCacheMax && len(c.entries) > 1) {
		total -= len(c.entries[0].keys)
		c.entries = c.entries[1:]
	}
}

// watchStates subscribes the cache to the states channel; until it has,
// queries read the store.
func (e *Engine) watchStates() {
	ch, _, err := e.cloud.Store().Subscribe(statesChannel)
	if err != nil {
		e.log.Warn("no state change notifications; queries read every state from the store", "err", err)
		return
	}
	go func() {
		for range ch { // ends when the store closes
			e.cache.changed()
		}
		e.cache.enabled.Store(false)
	}()
	e.cache.enabled.Store(true)
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
func decodeLite(b []byte, in interner) (*State, error) {
	var v storedLite
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	s := v.stored.state()
	s.ResourceType, s.Location = in.get(s.ResourceType), in.get(s.Location)
	s.AssignmentID, s.DefinitionID, s.SetDefinitionID = in.get(s.AssignmentID), in.get(s.DefinitionID), in.get(s.SetDefinitionID)
	s.ReferenceID, s.Effect, s.State = in.get(s.ReferenceID), in.get(s.Effect), policy.ComplianceState(in.get(string(s.State)))
	s.GroupNames, s.ManagementGroups = in.all(s.GroupNames), in.all(s.ManagementGroups)
	return s, nil
}

// readScope reads every state under prefix from the store, without
// expressions, and caches them when they are few enough.
func (e *Engine) readScope(ctx context.Context, prefix string) ([]string, []*State, error) {
	gen := e.cache.gen.Load()
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
			s, err := decodeLite(r.Value, in)
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
		e.cache.put(&cachedScope{prefix: prefix, gen: gen, keys: keys, states: states})
	}
	return keys, states, nil
}
