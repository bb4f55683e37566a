package kql

import (
	"math"
	"math/bits"
	"sort"
)

// This file holds what the pattern plugins (basket, diffpatterns,
// autocluster) share: their argument conventions ("~" for a default,
// typed wildcard literals), the encoding of the input's dimension columns
// as items (column = value) with a bitset of rows per item, and the
// output table (a segment id, counts and percentages, then one column per
// dimension holding the pattern's value or the wildcard).

// pluginArgs reads a pattern plugin's positional arguments.
type pluginArgs struct {
	sc   *scope
	in   *planTable
	at   Node
	name string
	args []Expr
}

// tilde reports whether argument i is absent or "~" (use the default).
func (a *pluginArgs) tilde(i int) bool {
	if i >= len(a.args) {
		return true
	}
	l, ok := a.args[i].(*Lit)
	return ok && l.Val.T == TypeString && l.Val.s == "~"
}

// constant evaluates argument i as a constant.
func (a *pluginArgs) constant(i int, what string) (Value, error) {
	return a.sc.constant(a.args[i], a.name+"'s "+what)
}

// number reads argument i as a number in [lo, hi], def when "~".
func (a *pluginArgs) number(i int, what string, def, lo, hi float64) (float64, error) {
	if a.tilde(i) {
		return def, nil
	}
	v, err := a.constant(i, what)
	if err != nil {
		return 0, err
	}
	if !v.ok || !v.T.isNumeric() {
		return 0, errAt(a.args[i], "%s's %s must be a number", a.name, what)
	}
	f := v.AsReal()
	if v.T == TypeInt || v.T == TypeLong {
		f = float64(v.i)
	}
	if f < lo || f > hi || math.IsNaN(f) {
		return 0, errAt(a.args[i], "%s's %s must be between %v and %v, not %v", a.name, what, lo, hi, f)
	}
	return f, nil
}

// integer reads argument i as a whole number in [lo, hi], def when "~".
func (a *pluginArgs) integer(i int, what string, def, lo, hi float64) (int, error) {
	f, err := a.number(i, what, def, lo, hi)
	if err == nil && f != math.Trunc(f) {
		err = errAt(a.args[i], "%s's %s must be an integer", a.name, what)
	}
	return int(f), err
}

// countType is the type of a pattern's count: real for a real weight
// column, else long.
func countType(in *planTable, weightCol int) (Type, bool) {
	if weightCol >= 0 && (in.cols[weightCol].Type == TypeReal || in.cols[weightCol].Type == TypeDecimal) {
		return TypeReal, true
	}
	return TypeLong, false
}

// column reads argument i as the name of an input column (a bare name or
// a string); -1 when "~" and optional.
func (a *pluginArgs) column(i int, what string, optional bool) (int, error) {
	if optional && a.tilde(i) {
		return -1, nil
	}
	if i >= len(a.args) {
		return -1, errAt(a.at, "%s needs a %s", a.name, what)
	}
	name := ""
	switch x := a.args[i].(type) {
	case *Ident:
		name = x.Name
	case *Lit:
		if x.Val.T == TypeString {
			name = x.Val.s
		}
	}
	ci := colIndex(a.in.cols, name)
	if ci < 0 {
		return -1, errAt(a.args[i], "%s's %s must name a column of its input", a.name, what)
	}
	return ci, nil
}

// weightColumn reads argument i as an optional numeric weight column.
func (a *pluginArgs) weightColumn(i int, integerOnly bool) (int, error) {
	ci, err := a.column(i, "weight column", true)
	if err != nil || ci < 0 {
		return ci, err
	}
	t := a.in.cols[ci].Type
	if !t.isNumeric() || integerOnly && t != TypeInt && t != TypeLong {
		return -1, errAt(a.args[i], "%s's weight column %s must be numeric, not %s", a.name, a.in.cols[ci].Name, t)
	}
	return ci, nil
}

// wildcards reads the CustomWildcard arguments from i on: one constant
// per type; "~" keeps a type's default (null, the empty string for
// strings).
func (a *pluginArgs) wildcards(i int) (map[Type]Value, error) {
	w := map[Type]Value{}
	for ; i < len(a.args); i++ {
		if a.tilde(i) {
			continue
		}
		v, err := a.constant(i, "wildcard")
		if err != nil {
			return nil, err
		}
		if _, dup := w[v.T]; dup {
			return nil, errAt(a.args[i], "%s has two wildcards of type %s", a.name, v.T)
		}
		w[v.T] = v
	}
	return w, nil
}

// dimensions reads the wildcards from argument i on and lists the input
// columns other than skip (the weight and split columns): the columns the
// patterns are made of.
func (a *pluginArgs) dimensions(i int, skip ...int) ([]int, map[Type]Value, error) {
	wild, err := a.wildcards(i)
	if err != nil {
		return nil, nil, err
	}
	dims := dimensionColumns(a.in, skip...)
	if len(dims) == 0 {
		return nil, nil, errAt(a.at, "%s needs a column besides its weight and split columns", a.name)
	}
	return dims, wild, nil
}

// countColumns are the leading columns of basket and autocluster.
func countColumns(countT Type) []Column {
	return []Column{{Name: "SegmentId", Type: TypeLong}, {Name: "Count", Type: countT}, {Name: "Percent", Type: TypeReal}}
}

// wildcardFor gives the wildcard of a column type: a custom one of that
// type (int and long stand in for each other), else null.
func wildcardFor(w map[Type]Value, t Type) Value {
	if v, ok := w[t]; ok {
		return v
	}
	switch t {
	case TypeInt:
		if v, ok := w[TypeLong]; ok {
			return castTo(v, t)
		}
	case TypeLong:
		if v, ok := w[TypeInt]; ok {
			return castTo(v, t)
		}
	}
	return Null(t)
}

// patItem is one item: dimension dim has value val.
type patItem struct {
	dim int
	val Value
}

// patData is the input encoded for mining: per row its item of each
// dimension (-1 for a null or empty value, which is never an item), the
// items' weights, and bitsets of rows per item built on demand.
type patData struct {
	q      *qctx
	n      int
	words  int
	dims   []int // the input column of each dimension
	codes  []int32
	items  []patItem
	weight []float64 // weight of each item
	bits   map[int32][]uint64
	w      []float64 // per-row weights, nil when every row weighs 1
	total  float64
}

// encodePatterns encodes rows over the dimension columns dims. weightCol
// is -1 for unweighted rows.
func encodePatterns(q *qctx, rows []Row, dims []int, weightCol int) *patData {
	d := &patData{q: q, n: len(rows), words: (len(rows) + 63) / 64, dims: dims,
		codes: make([]int32, len(rows)*len(dims)), bits: map[int32][]uint64{}}
	q.gov.mustGrow("evaluate plugin", int64(len(d.codes))*4)
	if weightCol >= 0 {
		d.w = make([]float64, len(rows))
		q.gov.mustGrow("evaluate plugin", int64(len(rows))*8)
	}
	index := make([]map[string]int32, len(dims))
	for j := range dims {
		index[j] = map[string]int32{}
	}
	var key []byte
	for i, r := range rows {
		wt := 1.0
		if d.w != nil {
			v := r[weightCol]
			switch {
			case !v.ok:
				wt = 0
			case v.T == TypeReal || v.T == TypeDecimal:
				wt = v.AsReal()
			default:
				wt = float64(v.i)
			}
			d.w[i] = wt
		}
		d.total += wt
		for j, c := range dims {
			v := r[c]
			code := int32(-1)
			if !v.IsNull() && !(v.T == TypeString && v.s == "") {
				key = appendKey(key[:0], []Value{v})
				var ok bool
				if code, ok = index[j][string(key)]; !ok {
					code = int32(len(d.items))
					index[j][string(key)] = code
					d.items = append(d.items, patItem{dim: j, val: v})
					d.weight = append(d.weight, 0)
					q.gov.mustGrow("evaluate plugin", 64+2*int64(len(key))+valueBytes(v))
				}
				d.weight[code] += wt
			}
			d.codes[i*len(dims)+j] = code
		}
		if err := q.gov.tick(q.ctx); err != nil {
			panic(err)
		}
	}
	return d
}

// code gives row i's item of dimension j.
func (d *patData) code(i, j int) int32 { return d.codes[i*len(d.dims)+j] }

// itemBits gives the rows holding item it, built once and counted.
func (d *patData) itemBits(it int32) []uint64 {
	if b, ok := d.bits[it]; ok {
		return b
	}
	d.q.gov.mustGrow("evaluate plugin", int64(d.words)*8)
	b := make([]uint64, d.words)
	j := d.items[it].dim
	for i := 0; i < d.n; i++ {
		if d.code(i, j) == it {
			b[i>>6] |= 1 << (uint(i) & 63)
		}
	}
	d.bits[it] = b
	return b
}

// newBits allocates a row bitset, counted.
func (d *patData) newBits() []uint64 {
	d.q.gov.mustGrow("evaluate plugin", int64(d.words)*8)
	return make([]uint64, d.words)
}

// and sets dst to a & b and returns the weight of the rows in it.
func (d *patData) and(dst, a, b []uint64) float64 {
	if err := d.q.gov.tick(d.q.ctx); err != nil {
		panic(err)
	}
	if d.w == nil {
		n := 0
		for i := range dst {
			x := a[i] & b[i]
			dst[i] = x
			n += bits.OnesCount64(x)
		}
		return float64(n)
	}
	s := 0.0
	for i := range dst {
		x := a[i] & b[i]
		dst[i] = x
		for x != 0 {
			s += d.w[i<<6+bits.TrailingZeros64(x)]
			x &= x - 1
		}
	}
	return s
}

// allBits is the bitset of every row.
func (d *patData) allBits() []uint64 {
	b := d.newBits()
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := d.n & 63; r != 0 {
		b[len(b)-1] = 1<<uint(r) - 1
	}
	return b
}

// pattern is a set of items, at most one per dimension, kept sorted.
type pattern []int32

func (p pattern) key() string {
	b := make([]byte, 0, 4*len(p))
	for _, it := range p {
		b = append(b, byte(it), byte(it>>8), byte(it>>16), byte(it>>24))
	}
	return string(b)
}

// contains reports whether p holds every item of o.
func (p pattern) contains(o pattern) bool {
	i := 0
	for _, it := range o {
		for i < len(p) && p[i] < it {
			i++
		}
		if i == len(p) || p[i] != it {
			return false
		}
	}
	return true
}

// related reports whether one pattern holds the other.
func (p pattern) related(o pattern) bool { return p.contains(o) || o.contains(p) }

// patternColumns gives the output schema: the plugin's leading columns,
// then the dimension columns of the input.
func patternColumns(in *planTable, lead []Column, dims []int) []Column {
	cols := append([]Column(nil), lead...)
	for _, c := range dims {
		cols = append(cols, Column{Name: uniqueName(cols, in.cols[c].Name), Type: in.cols[c].Type})
	}
	return cols
}

// patternCells fills the dimension cells of a result row.
func (d *patData) patternCells(in *planTable, out Row, p pattern, wild map[Type]Value) {
	for j, c := range d.dims {
		out[j] = wildcardFor(wild, in.cols[c].Type)
	}
	for _, it := range p {
		out[d.items[it].dim] = d.items[it].val
	}
}

// countValue is a pattern's count: long unless the weights are reals.
func countValue(f float64, real bool) Value {
	if real {
		return Real(f)
	}
	return Long(int64(math.Round(f)))
}

// dimensionColumns lists the input columns other than skip.
func dimensionColumns(in *planTable, skip ...int) []int {
	var dims []int
outer:
	for i := range in.cols {
		for _, s := range skip {
			if i == s {
				continue outer
			}
		}
		dims = append(dims, i)
	}
	return dims
}

// sortPatterns orders patterns by score descending, then by their items.
func sortPatterns(ps []pattern, score func(i int) float64) []int {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		sa, sb := score(idx[a]), score(idx[b])
		if sa != sb {
			return sa > sb
		}
		pa, pb := ps[idx[a]], ps[idx[b]]
		for k := 0; k < len(pa) && k < len(pb); k++ {
			if pa[k] != pb[k] {
				return pa[k] < pb[k]
			}
		}
		return len(pa) < len(pb)
	})
	return idx
}

// mineItemsets walks, depth first, every pattern of the given items (at
// most one per dimension, at most maxDim items) whose rows pass keep, an
// anti-monotone test given the rows' bitset and weight: a pattern that
// fails it is not extended. visit sees each kept pattern with its rows;
// the bitset is reused afterwards, so visit copies what it keeps.
func (d *patData) mineItemsets(items []int32, maxDim int, keep func(b []uint64, w float64) bool, visit func(p pattern, b []uint64, w float64)) {
	sort.Slice(items, func(i, j int) bool {
		a, b := d.items[items[i]], d.items[items[j]]
		if a.dim != b.dim {
			return a.dim < b.dim
		}
		return items[i] < items[j]
	})
	maxDim = min(maxDim, len(d.dims))
	bufs := make([][]uint64, maxDim)
	var dfs func(p pattern, b []uint64, start int)
	dfs = func(p pattern, b []uint64, start int) {
		last := -1
		if len(p) > 0 {
			last = d.items[p[len(p)-1]].dim
		}
		for k := start; k < len(items); k++ {
			it := items[k]
			if d.items[it].dim == last {
				continue
			}
			if bufs[len(p)] == nil {
				bufs[len(p)] = d.newBits()
			}
			nb := bufs[len(p)]
			w := d.and(nb, b, d.itemBits(it))
			if !keep(nb, w) {
				continue
			}
			np := append(p[:len(p):len(p)], it)
			visit(np, nb, w)
			if len(np) < maxDim {
				dfs(np, nb, k+1)
			}
		}
	}
	dfs(nil, d.allBits(), 0)
}
