package kql

import (
	"sort"
	"strings"
)

// funnelSamples is the most ids a funnel_sequence row lists in samples.
const funnelSamples = 128

// sequenceArg reads argument i of a funnel plugin: a non-empty dynamic
// array of the states to look up in the state column.
func (a *usageArgs) sequenceArg(i int) ([]string, error) {
	v, err := a.constant(i, "sequence")
	if err != nil {
		return nil, err
	}
	arr, ok := v.d.([]any)
	if v.T != TypeDynamic || !ok || len(arr) == 0 {
		return nil, errAt(a.args[i], "%s's sequence must be a non-empty dynamic array of states", a.name)
	}
	seq := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, errAt(a.args[i], "%s's sequence must hold strings", a.name)
		}
		seq = append(seq, s)
	}
	return seq, nil
}

// stateColumn reads argument i as the plugin's string state column.
func (a *usageArgs) stateColumn(i int) (int, error) {
	state, err := a.column(i, "state column", false)
	if err != nil {
		return -1, err
	}
	if a.in.cols[state].Type != TypeString {
		return -1, errAt(a.args[i], "%s's state column must be a string column", a.name)
	}
	return state, nil
}

// compileFunnelSequence plans "evaluate funnel_sequence(IdColumn,
// TimelineColumn, Start, End, MaxSequenceStepWindow, Step, StateColumn,
// Sequence)" into its three tables: per window (Step long, aligned on
// Start) the ids that went through the sequence, by the state before and
// the state after it (prev, next), by prev alone and by next alone, each
// with dcount and up to 128 samples.
//
// Within a window, an id's records are taken in time order with repeats of
// a state merged into one step; the sequence is matched on consecutive
// steps no more than MaxSequenceStepWindow apart, and prev and next are the
// steps just before and after a match within the same distance ("" when
// there is none).
func compileFunnelSequence(sc *scope, in *planTable, o *RawOp, resets *[]func()) ([]resultPlan, error) {
	call, _ := rawCall(o)
	a, err := newUsageArgs(sc, in, o, call, 8, "IdColumn, TimelineColumn, Start, End, MaxSequenceStepWindow, Step, StateColumn, Sequence")
	if err != nil {
		return nil, err
	}
	if len(call.Args) > 8 {
		return nil, errAt(call.Args[8], "funnel_sequence takes 8 arguments")
	}
	id, start, end, err := a.idTimeRange()
	if err != nil {
		return nil, err
	}
	maxStep, err := a.length(4, "max sequence step window")
	if err != nil {
		return nil, err
	}
	step, err := a.length(5, "step")
	if err != nil {
		return nil, err
	}
	state, err := a.stateColumn(6)
	if err != nil {
		return nil, err
	}
	seq, err := a.sequenceArg(7)
	if err != nil {
		return nil, err
	}
	f := &funnelSeq{in: in, at: o, id: id, tl: a.tl, state: state, start: start, end: end, step: step, maxStep: maxStep, seq: seq}
	*resets = append(*resets, func() { f.out = nil })
	tlCol := in.cols[a.tl]
	str := func(name string) Column { return Column{Name: uniqueName([]Column{tlCol}, name), Type: TypeString} }
	counts := []Column{{Name: "dcount", Type: TypeLong}, {Name: "samples", Type: TypeDynamic}}
	schemas := [][]Column{
		append([]Column{tlCol, str("prev"), str("next")}, counts...),
		append([]Column{tlCol, str("prev")}, counts...),
		append([]Column{tlCol, str("next")}, counts...),
	}
	out := make([]resultPlan, len(schemas))
	for i, cols := range schemas {
		out[i] = resultPlan{t: &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
			tables, err := f.run(q)
			if err != nil {
				return nil, err
			}
			return &sliceIter{rows: tables[i]}, nil
		}}}
	}
	return out, nil
}

// funnelSeq computes funnel_sequence's tables once per execution.
type funnelSeq struct {
	in                        *planTable
	at                        Node
	id, tl, state             int
	start, end, step, maxStep int64
	seq                       []string
	out                       *[3][]Row
}

// funnelStep is one step of an id's timeline: a state and when it began.
type funnelStep struct {
	t     int64
	state string
}

// funnelKey groups the ids of one output row.
type funnelKey struct {
	bin        int64
	prev, next string
}

// funnelIDs is the distinct ids of a row, in the order first met.
type funnelIDs struct {
	seen map[string]bool
	ids  []Value
}

const funnelWhat = "funnel_sequence plugin"

func (f *funnelSeq) run(q *qctx) ([3][]Row, error) {
	if f.out != nil {
		return *f.out, nil
	}
	rows, err := q.readAll(f.in)
	if err != nil {
		return [3][]Row{}, err
	}
	n, err := binCount(q, f.at, "funnel_sequence", f.start, f.end, f.step)
	if err != nil {
		return [3][]Row{}, err
	}
	// each id's steps per window, ids in the order first met
	type idBin struct {
		key string
		bin int64
	}
	byID := map[idBin][]funnelStep{}
	var order []idBin
	idVal := map[string]Value{}
	for _, r := range rows {
		if err := q.gov.tick(q.ctx); err != nil {
			return [3][]Row{}, err
		}
		t, s := r[f.tl], r[f.state]
		if t.IsNull() || r[f.id].IsNull() || !s.ok || t.i < f.start {
			continue
		}
		b := floorDiv(t.i-f.start, f.step)
		if b >= n {
			continue
		}
		k := idBin{keyOf([]Value{r[f.id]}), b}
		grow := int64(40 + len(s.s))
		if _, ok := byID[k]; !ok {
			order = append(order, k)
			idVal[k.key] = r[f.id]
			grow += int64(len(k.key)) + 80
		}
		byID[k] = append(byID[k], funnelStep{t.i, s.s})
		if err := q.gov.grow(funnelWhat, grow); err != nil {
			return [3][]Row{}, err
		}
	}
	var groups [3]map[funnelKey]*funnelIDs
	var keys [3][]funnelKey
	for i := range groups {
		groups[i] = map[funnelKey]*funnelIDs{}
	}
	add := func(table int, k funnelKey, id string) error {
		g := groups[table][k]
		if g == nil {
			g = &funnelIDs{seen: map[string]bool{}}
			groups[table][k] = g
			keys[table] = append(keys[table], k)
		}
		if g.seen[id] {
			return nil
		}
		g.seen[id] = true
		if len(g.ids) < funnelSamples {
			g.ids = append(g.ids, idVal[id])
		}
		return q.gov.grow(funnelWhat, int64(len(id))+48)
	}
	for _, k := range order {
		steps := mergeRepeats(byID[k])
		for _, m := range f.matches(steps) {
			if err := q.gov.tick(q.ctx); err != nil {
				return [3][]Row{}, err
			}
			for table, fk := range [3]funnelKey{{k.bin, m.prev, m.next}, {k.bin, m.prev, ""}, {k.bin, "", m.next}} {
				if err := add(table, fk, k.key); err != nil {
					return [3][]Row{}, err
				}
			}
		}
	}
	var out [3][]Row
	tlType := f.in.cols[f.tl].Type
	for table := range out {
		ks := keys[table]
		g := groups[table]
		sort.SliceStable(ks, func(i, j int) bool {
			a, b := ks[i], ks[j]
			if a.bin != b.bin {
				return a.bin < b.bin
			}
			if na, nb := len(g[a].seen), len(g[b].seen); na != nb {
				return na > nb
			}
			if c := strings.Compare(a.prev, b.prev); c != 0 {
				return c < 0
			}
			return a.next < b.next
		})
		for _, k := range ks {
			ids := g[k]
			samples := make([]any, len(ids.ids))
			for i, v := range ids.ids {
				samples[i] = dynAny(v)
			}
			r := Row{{T: tlType, ok: true, i: f.start + k.bin*f.step}}
			switch table {
			case 0:
				r = append(r, String(k.prev), String(k.next))
			case 1:
				r = append(r, String(k.prev))
			default:
				r = append(r, String(k.next))
			}
			r = append(r, Long(int64(len(ids.seen))), Dynamic(samples))
			out[table] = q.keep(out[table], r, funnelWhat)
		}
	}
	f.out = &out
	return out, nil
}

// mergeRepeats orders an id's records by time and merges each run of one
// state into its first record.
func mergeRepeats(steps []funnelStep) []funnelStep {
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].t < steps[j].t })
	out := steps[:0]
	for _, s := range steps {
		if len(out) > 0 && out[len(out)-1].state == s.state {
			continue
		}
		out = append(out, s)
	}
	return out
}

// funnelMatch is one occurrence of the sequence with its neighbours.
type funnelMatch struct{ prev, next string }

// matches finds the sequence among consecutive steps, each within the max
// step window of the one before it.
func (f *funnelSeq) matches(steps []funnelStep) []funnelMatch {
	var out []funnelMatch
	k := len(f.seq)
	for i := 0; i+k <= len(steps); i++ {
		ok := true
		for j, s := range f.seq {
			if steps[i+j].state != s || j > 0 && steps[i+j].t-steps[i+j-1].t > f.maxStep {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		var m funnelMatch
		if i > 0 && steps[i].t-steps[i-1].t <= f.maxStep {
			m.prev = steps[i-1].state
		}
		if last := i + k - 1; last+1 < len(steps) && steps[last+1].t-steps[last].t <= f.maxStep {
			m.next = steps[last+1].state
		}
		out = append(out, m)
	}
	return out
}
