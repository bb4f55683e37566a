package scan

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-gov/steward/internal/policy"
)

type timeFn func() time.Time

// Sink receives a scan's output in estate order: findings and malformed
// records as they are found, then the report. Calls come from one
// goroutine.
type Sink interface {
	Finding(f *Finding) error
	Malformed(e *RecordError) error
	Diff(d *DiffEntry) error
	Finish(r *Report) error
}

// Scanner evaluates a plan over an estate.
type Scanner struct {
	Plan  *Plan
	Index *Index
	// Aliases resolves alias fields when describing modify and append
	// changes; nil uses the default rule.
	Aliases *policy.AliasTable
	// Workers bounds the evaluating goroutines; 0 uses GOMAXPROCS.
	Workers int
	// Now is the clock exemption expiry and utcNow() read.
	Now func() time.Time
	// Scanned counts the records read so far, for progress reports.
	Scanned atomic.Int64
	// LazyExplain defers the explanation of non-compliant results until
	// a sink asks for it (Finding.Explain), for sinks that keep few.
	LazyExplain bool

	// compare, when set, replaces the findings with a diff between two
	// targets (see Diff).
	compare func(res *policy.Resource, where string, out []targetOutcome) *DiffEntry
	// clock, when set, collects the phase times (Config.Stats).
	clock *statClock
	// noContainers is set when no definition can call resourceGroup() or
	// subscription() (see Plan.needsIndex): their values are then never
	// built.
	noContainers bool
}

// scanRequestContext is what requestContext() returns in a scan: no
// request, so no caller identity (the engine adds the resource's
// apiVersion). It is shared and never written.
var scanRequestContext = map[string]any{"identity": map[string]any{}}

// batchSize is how many records travel to a worker together.
const batchSize = 64

type batch struct {
	seq     int
	records []Record
	// filled by the worker
	findings []*Finding
	diffs    []*DiffEntry
}

// targetOutcome is one assignment's result for one resource.
type targetOutcome struct {
	t       *Target
	state   policy.ComplianceState
	members []memberOutcome
}

type memberOutcome struct {
	m     *Member
	state policy.ComplianceState
}

// Scan reads the estate with read (which calls its argument once per
// record, as Read does) and evaluates every record against the plan,
// handing findings to sink in estate order.
func (s *Scanner) Scan(ctx context.Context, read func(func(Record) error) error, sink Sink) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Index == nil {
		s.Index = NewIndex(nil, false)
	}
	jobs := make(chan *batch, workers)
	done := make(chan *batch, workers)
	total := newCounters(s.Plan)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newCounters(s.Plan)
			w := &worker{s: s, c: c}
			for b := range jobs {
				start := time.Now()
				w.run(ctx, b)
				s.clock.addEval(start)
				done <- b
			}
			mu.Lock()
			total.merge(c)
			mu.Unlock()
		}()
	}
	// window bounds the batches between the reader and the sink, so a
	// slow batch cannot make the others pile up waiting for their turn.
	window := make(chan struct{}, 4*workers)
	send := func(b *batch) error {
		select {
		case window <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case jobs <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var readErr error
	go func() {
		defer close(jobs)
		seq := 0
		cur := &batch{}
		// The reader's own time is parsing and reading: what it spends
		// handing batches on (waiting for a worker) is not.
		start, readBefore := time.Now(), int64(0)
		var waited time.Duration
		if s.clock != nil {
			readBefore = s.clock.read.Load()
		}
		readErr = read(func(r Record) error {
			s.Scanned.Add(1)
			cur.records = append(cur.records, r)
			if len(cur.records) < batchSize {
				return nil
			}
			cur.seq, seq = seq, seq+1
			b := cur
			cur = &batch{}
			t := time.Now()
			err := send(b)
			waited += time.Since(t)
			return err
		})
		if s.clock != nil {
			s.clock.parse.Add(int64(time.Since(start)-waited) - (s.clock.read.Load() - readBefore))
		}
		if len(cur.records) > 0 {
			cur.seq = seq
			_ = send(cur)
		}
	}()
	go func() { wg.Wait(); close(done) }()

	rep := &Report{Diff: s.compare != nil}
	sinkErr := s.drain(done, window, sink, rep)
	if sinkErr != nil {
		cancel()
		for range done {
		}
		return nil, sinkErr
	}
	rep.fill(s.Plan, total)
	if readErr != nil {
		rep.InputError = readErr.Error()
	}
	finish := time.Now()
	err := sink.Finish(rep)
	s.clock.addReport(finish)
	if err != nil {
		return rep, err
	}
	return rep, readErr
}

// drain hands the workers' batches to the sink in sequence order,
// holding back those that arrive early, and frees a window slot per
// batch handed on.
func (s *Scanner) drain(done <-chan *batch, window <-chan struct{}, sink Sink, rep *Report) error {
	pending := map[int]*batch{}
	next := 0
	var err error
	for b := range done {
		pending[b.seq] = b
		for p, ok := pending[next]; ok; p, ok = pending[next] {
			delete(pending, next)
			next++
			<-window
			if err == nil {
				start := time.Now()
				err = s.emit(p, sink, rep)
				s.clock.addReport(start)
			}
		}
		if err != nil {
			return err
		}
	}
	return err
}

func (s *Scanner) emit(b *batch, sink Sink, rep *Report) error {
	fi, di := 0, 0
	for _, r := range b.records {
		if r.Err != nil {
			rep.Malformed++
			if err := sink.Malformed(r.Err.(*RecordError)); err != nil {
				return err
			}
			continue
		}
		rep.Resources++
	}
	for ; fi < len(b.findings); fi++ {
		f := b.findings[fi]
		switch {
		case f.State == policy.StateNonCompliant:
			rep.NonCompliant++
		case f.State == policy.StateError:
			rep.Errors++
		}
		if f.NextWrite != nil && f.NextWrite.Denied {
			rep.Denied++
		}
		if err := sink.Finding(f); err != nil {
			return err
		}
	}
	for ; di < len(b.diffs); di++ {
		d := b.diffs[di]
		rep.Changed++
		if d.New == policy.StateNonCompliant && d.Old != policy.StateNonCompliant {
			rep.Regressions++
		}
		if rep.Transitions == nil {
			rep.Transitions = map[string]int64{}
		}
		rep.Transitions[string(d.Old)+" -> "+string(d.New)]++
		if err := sink.Diff(d); err != nil {
			return err
		}
	}
	return nil
}

// worker evaluates batches with its own counters and buffers.
type worker struct {
	s   *Scanner
	c   *counters
	out []targetOutcome
	// applies caches, per resource type and presence of a location, the
	// members whose mode and type conditions let them evaluate such a
	// resource: Policy.AppliesTo is documented to depend on nothing else.
	applies map[applyKey][]applicable
	dec     decoder
	rd      reader // resolves the lazy records with dec
	// scopes caches containerValues by the ID's subscription and resource
	// group prefix (what its answer depends on).
	scopes map[string]scopeValues
	// states and overall are evaluate's scratch for the states it rolls
	// up, reused from one resource to the next.
	states, overall []policy.ComplianceState
	related         policy.RelatedFunc
}

type scopeValues struct{ rg, sub map[string]any }

// maxScopes bounds the cache; past it, containerValues is asked again.
const maxScopes = 1 << 14

// containers is Index.containerValues, cached.
func (w *worker) containers(id string) (rg, sub map[string]any) {
	key := scopePrefix(id)
	if key == "" {
		return w.s.Index.containerValues(id)
	}
	if v, ok := w.scopes[key]; ok {
		return v.rg, v.sub
	}
	rg, sub = w.s.Index.containerValues(id)
	if w.scopes == nil {
		w.scopes = map[string]scopeValues{}
	}
	if len(w.scopes) < maxScopes {
		w.scopes[key] = scopeValues{rg: rg, sub: sub}
	}
	return rg, sub
}

// scopePrefix returns "/subscriptions/{s}/resourceGroups/{g}/" of a
// resource ID below a resource group, as spelled in the ID, else "" (not
// cached: subscriptions, resource groups themselves, other scopes, IDs
// ParseResourceID could refuse). containerValues depends on nothing else
// of such an ID.
func scopePrefix(id string) string {
	const subs, groups = "/subscriptions/", "/resourcegroups/"
	if len(id) < len(subs) || !strings.EqualFold(id[:len(subs)], subs) {
		return ""
	}
	i := strings.IndexByte(id[len(subs):], '/')
	if i <= 0 {
		return ""
	}
	i += len(subs)
	if len(id) < i+len(groups) || !strings.EqualFold(id[i:i+len(groups)], groups) {
		return ""
	}
	j := strings.IndexByte(id[i+len(groups):], '/')
	if j <= 0 {
		return ""
	}
	j += i + len(groups)
	const prov = "/providers"
	rest := strings.TrimRight(id, "/")
	if !strings.HasPrefix(id[j:], "/providers/") || strings.Contains(id, "//") ||
		len(rest) >= len(prov) && strings.EqualFold(rest[len(rest)-len(prov):], prov) {
		return "" // ParseResourceID may refuse these: ask it
	}
	return id[:j+1]
}

type applyKey struct {
	typ string // lower case
	loc bool
}

// applicable is a target with the members that may apply.
type applicable struct {
	t       *Target
	members []*Member
}

// applicableTo returns the targets and members that may apply to res.
func (w *worker) applicableTo(res *policy.Resource) []applicable {
	k := applyKey{typ: res.LowerType(), loc: res.HasLocation()}
	if a, ok := w.applies[k]; ok {
		return a
	}
	var out []applicable
	for _, t := range w.s.Plan.Targets {
		var ms []*Member
		for _, m := range t.Members {
			if m.Policy.AppliesTo(res) {
				ms = append(ms, m)
			}
		}
		if len(ms) > 0 {
			out = append(out, applicable{t: t, members: ms})
		}
	}
	if w.applies == nil {
		w.applies = map[applyKey][]applicable{}
	}
	w.applies[k] = out
	return out
}

func (w *worker) run(ctx context.Context, b *batch) {
	b.records = w.resolve(b.records)
	for _, r := range b.records {
		if r.Err != nil || ctx.Err() != nil {
			continue
		}
		res := policy.NewResource(r.Doc)
		w.evaluate(ctx, res, r, b)
		if w.s.compare != nil {
			if d := w.s.compare(res, r.Where, w.out); d != nil {
				b.diffs = append(b.diffs, d)
			}
		}
	}
	b.records = errorsOnly(b.records)
}

// errorsOnly drops the documents a batch no longer needs, keeping the
// count and the malformed records for the sink.
// resolve decodes the batch's lazy records (see readLazy), expanding
// Resource Graph pages in place so that the estate order holds.
func (w *worker) resolve(rs []Record) []Record {
	lazy := false
	for _, r := range rs {
		lazy = lazy || r.lazy != nil
	}
	if !lazy {
		return rs
	}
	out := make([]Record, 0, len(rs))
	if w.rd.ctx == nil {
		w.rd = reader{ctx: context.Background(), dec: &w.dec}
	}
	for _, r := range rs {
		before := len(out)
		out = w.rd.resolveInto(out, r)
		if n := len(out) - before - 1; n != 0 {
			w.s.Scanned.Add(int64(n))
		}
	}
	return out
}

func errorsOnly(rs []Record) []Record {
	for i := range rs {
		rs[i].Doc = nil
	}
	return rs
}

// evaluate runs every target over one resource, counting states and
// collecting findings.
func (w *worker) evaluate(ctx context.Context, res *policy.Resource, rec Record, b *batch) {
	s := w.s
	var rg, sub map[string]any
	if !s.noContainers {
		rg, sub = w.containers(res.ID())
	}
	if w.related == nil {
		w.related = s.Index.Related // a method value: allocated once, not per resource
	}
	base := policy.EvalOptions{ResourceGroup: rg, Subscription: sub, Related: w.related, Now: s.Now(),
		RequestContext: scanRequestContext}
	w.out = w.out[:0]
	overall := w.overall[:0]
	for _, ap := range w.applicableTo(res) {
		t := ap.t
		if !t.covers(res) {
			continue
		}
		to := targetOutcome{t: t}
		tStates := w.states[:0]
		for _, m := range ap.members {
			o := base
			o.Policy = m.policyFn
			o.EffectOverride, _ = t.Assignment.EffectOverride(m.ReferenceID, res)
			r := m.Policy.Evaluate(ctx, res, o)
			if r.State == policy.StateNotStarted {
				continue // a disabled effect
			}
			if t.exempt(m, res, s.Now) {
				r.State = policy.StateExempt
			}
			w.c.members[m.index].add(r.State)
			tStates = append(tStates, r.State)
			if s.compare != nil { // only a diff reads the members' states
				to.members = append(to.members, memberOutcome{m: m, state: r.State})
			}
			if s.compare == nil && (r.State == policy.StateNonCompliant || r.State == policy.StateError) {
				// a copy: the finding keeps a pointer to it, and taking
				// r's address would move every result to the heap
				kept := r
				f := w.finding(ctx, res, rec, t, m, o, &kept)
				if f.NextWrite != nil && f.NextWrite.Denied {
					w.c.denied[m.index]++
				}
				b.findings = append(b.findings, f)
			}
		}
		if len(tStates) == 0 {
			continue
		}
		w.states = tStates
		to.state = policy.Rollup(tStates...)
		w.c.targets[t.index].add(to.state)
		overall = append(overall, to.state)
		w.out = append(w.out, to)
	}
	w.overall = overall
	if len(overall) > 0 {
		w.c.overall.add(policy.Rollup(overall...))
	}
}

// finding builds the report of a non-compliant or failed evaluation,
// evaluating it once more with the explanation on.
func (w *worker) finding(ctx context.Context, res *policy.Resource, rec Record, t *Target, m *Member,
	o policy.EvalOptions, r *policy.Result) *Finding {
	explain := func(r *policy.Result) *policy.Result {
		o.Explain = true
		if x := m.Policy.Evaluate(ctx, res, o); x.State == r.State {
			return &x
		}
		return r
	}
	lazy := r.State == policy.StateNonCompliant && w.s.LazyExplain
	if r.State == policy.StateNonCompliant && !lazy {
		r = explain(r)
	}
	f := &Finding{ResourceID: res.ID(), ResourceType: res.Type(), Where: rec.Where, Line: rec.Line, URI: rec.URI, AssignmentID: t.Assignment.ID,
		AssignmentName: t.Assignment.Name, SetDefinitionID: t.SetID, ReferenceID: m.ReferenceID,
		DefinitionID: m.DefinitionID, DefinitionName: m.Policy.Definition().Name, DisplayName: m.DisplayName,
		State: r.State, Effect: r.Effect, Error: errText(r.Err), Reason: reason(r), EvaluatedExpressions: r.Explanation,
		Message: t.Assignment.Message(m.ReferenceID)}
	if r.State == policy.StateNonCompliant {
		f.NextWrite = nextWrite(r, res, t.Assignment.Enforced(), w.s.Aliases)
	}
	if lazy {
		f.explain = func(f *Finding) {
			x := explain(r)
			f.Reason, f.EvaluatedExpressions = reason(x), x.Explanation
		}
	}
	return f
}
