package kql

import (
	"errors"
	"math"
	"slices"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// A boolean engine for shapes on the sphere. Kusto's edges are geodesics,
// and the gnomonic projection centred at a point c maps every great circle
// through the hemisphere around c to a straight line. So shapes that all
// lie within geoBoolMaxSpread of c are projected to the tangent plane,
// combined there by a planar overlay, and the result is projected back:
// the answer is the spherical one up to floating point.
//
// The overlay: every input edge is split where it crosses or touches
// another edge (noding); coincident pieces become one segment that
// remembers which parts run along it and in which direction. For each
// segment and each operand, whether the operand lies on its left and on
// its right follows from the parts running along it, or else from a
// point-in-polygon test of its midpoint. A segment with the result on one
// side only is a result edge, oriented with the result on its left; the
// edges are joined into loops turning left at each vertex, so loops that
// touch at a vertex stay apart. An intersection also keeps what the two
// closed shapes share without area: segments and vertices on both
// boundaries.

// geoBoolMaxSpread is how far from the projection's centre a vertex may
// be: at 80° the plane stretches distances about 33 times, still far from
// the 90° where the projection breaks.
const geoBoolMaxSpread = 80 * math.Pi / 180

// geoBoolMaxVertices bounds the vertices one boolean operation takes in,
// and geoBoolMaxPairs the pairs of edges it may compare: beyond either the
// operation is refused rather than left to run for minutes.
const (
	geoBoolMaxVertices = 200_000
	geoBoolMaxPairs    = 50_000_000
)

// geoBoolEps is the planar distance (about 6 µm on the Earth near the
// centre) under which two points are one and a point is on a segment.
const geoBoolEps = 1e-12

var (
	errGeoBoolSpread  = errors.New("the shapes span more than 80° from their centre, which the boolean operations do not support")
	errGeoBoolTooMany = errors.New("the shapes have too many vertices or crossings for a boolean operation")
	// errGeoBoolInvalid: a polygon's own rings cross, touch an edge or run
	// along each other, which S2's validation (as the Go library runs it)
	// does not catch; the functions answer null, as for any invalid shape
	errGeoBoolInvalid = errors.New("invalid polygon")
)

// gnomonic is the projection to the plane tangent at c, with axes e1, e2
// such that e1 × e2 = c: counterclockwise on the sphere (seen from
// outside) stays counterclockwise in the plane.
type gnomonic struct{ c, e1, e2 r3.Vector }

// newGnomonic centres a projection at the normalised sum of the points and
// checks that every point is within geoBoolMaxSpread of it.
func newGnomonic(pts []s2.Point) (gnomonic, error) {
	var sum r3.Vector
	for _, p := range pts {
		sum = sum.Add(p.Vector)
	}
	if sum.Norm() < 1e-9 {
		return gnomonic{}, errGeoBoolSpread
	}
	c := sum.Normalize()
	minCos := math.Cos(geoBoolMaxSpread)
	for _, p := range pts {
		if p.Dot(c) < minCos {
			return gnomonic{}, errGeoBoolSpread
		}
	}
	e1 := s2.Ortho(s2.Point{Vector: c}).Vector
	e2 := c.Cross(e1).Normalize()
	return gnomonic{c: c, e1: e1, e2: e2}, nil
}

func (g gnomonic) fwd(p s2.Point) gPt {
	d := p.Dot(g.c)
	return gPt{p.Dot(g.e1) / d, p.Dot(g.e2) / d}
}

func (g gnomonic) inv(q gPt) s2.Point {
	return s2.Point{Vector: g.c.Add(g.e1.Mul(q.x)).Add(g.e2.Mul(q.y)).Normalize()}
}

// gPt is a point of the plane.
type gPt struct{ x, y float64 }

func (a gPt) sub(b gPt) gPt             { return gPt{a.x - b.x, a.y - b.y} }
func (a gPt) cross(b gPt) float64       { return a.x*b.y - a.y*b.x }
func (a gPt) dot(b gPt) float64         { return a.x*b.x + a.y*b.y }
func (a gPt) dist(b gPt) float64        { return math.Hypot(a.x-b.x, a.y-b.y) }
func (a gPt) lerp(b gPt, t float64) gPt { return gPt{a.x + t*(b.x-a.x), a.y + t*(b.y-a.y)} }

// bPart is one input polygon (a shell and its holes) or one line, of
// operand op. Rings hold their vertices with the interior on the left and
// without the closing repetition; ids are the input edge ids, one per
// edge, numbered across all parts in input order.
type bPart struct {
	op     int
	line   bool
	rings  [][]s2.Point
	ids    [][]int
	plane  [][]gPt
	lo, hi gPt
}

// bVertex is a vertex of the overlay: its plane position and its point on
// the sphere (an input vertex keeps its own point exactly).
type bVertex struct {
	p  gPt
	sp s2.Point
}

// bSeg is a noded segment between vertices a and b (a < b).
type bSeg struct {
	a, b int
	// cover lists, for each part running along the segment, the part and
	// the sum of its directions (+1 along a→b, -1 against)
	cover []bCover
	minID int
}

type bCover struct{ part, dir int }

// overlay is one boolean operation in progress.
type overlay struct {
	g     gnomonic
	parts []bPart
	verts []bVertex
	grid  map[[2]int64][]int
	segs  []bSeg
	// invalid is set when a polygon part's own edges cross or overlap
	invalid bool
	gov     *governor
	what    string
}

// bResult is an overlay's answer: polygons (each a shell then its holes,
// as vertex loops with the minimum input edge id of each edge), lines and
// isolated points, as vertex ids.
type bResult struct {
	verts  []bVertex
	polys  [][]bLoop
	lines  [][]int
	points []int
	// deg holds the input positions as given, by point
	deg map[s2.Point][2]float64
}

type bLoop struct {
	v   []int
	ids []int
}

func newOverlay(parts []bPart, gov *governor, what string) (*overlay, error) {
	var all []s2.Point
	for _, p := range parts {
		for _, r := range p.rings {
			all = append(all, r...)
		}
	}
	if len(all) > geoBoolMaxVertices {
		return nil, errGeoBoolTooMany
	}
	g, err := newGnomonic(all)
	if err != nil {
		return nil, err
	}
	o := &overlay{g: g, parts: parts, grid: map[[2]int64][]int{}, gov: gov, what: what}
	for i := range o.parts {
		p := &o.parts[i]
		p.lo, p.hi = gPt{math.Inf(1), math.Inf(1)}, gPt{math.Inf(-1), math.Inf(-1)}
		p.plane = make([][]gPt, len(p.rings))
		for k, r := range p.rings {
			p.plane[k] = make([]gPt, len(r))
			for j, v := range r {
				q := g.fwd(v)
				p.plane[k][j] = q
				p.lo = gPt{min(p.lo.x, q.x), min(p.lo.y, q.y)}
				p.hi = gPt{max(p.hi.x, q.x), max(p.hi.y, q.y)}
			}
		}
	}
	return o, nil
}

// vertex returns the id of the vertex at q, merging it with one within
// geoBoolEps; sp is its point on the sphere when it is an input vertex.
func (o *overlay) vertex(q gPt, sp *s2.Point) int {
	const cell = 1e-9
	kx, ky := int64(math.Floor(q.x/cell)), int64(math.Floor(q.y/cell))
	for dx := int64(-1); dx <= 1; dx++ {
		for dy := int64(-1); dy <= 1; dy++ {
			for _, i := range o.grid[[2]int64{kx + dx, ky + dy}] {
				if o.verts[i].p.dist(q) <= geoBoolEps {
					return i
				}
			}
		}
	}
	o.charge(96)
	v := bVertex{p: q}
	if sp != nil {
		v.sp = *sp
	} else {
		v.sp = o.g.inv(q)
	}
	o.verts = append(o.verts, v)
	k := [2]int64{kx, ky}
	o.grid[k] = append(o.grid[k], len(o.verts)-1)
	return len(o.verts) - 1
}

// charge counts n bytes the overlay is about to hold against the query's
// memory budget.
func (o *overlay) charge(n int64) {
	if o.gov != nil {
		o.gov.alloc(o.what, n)
	}
}

// bEdge is an input edge during noding.
type bEdge struct {
	a, b   int
	part   int
	id     int
	lo, hi gPt
	splits []int
}

// node splits every input edge where another edge crosses or touches it
// and merges coincident pieces into segments.
func (o *overlay) node() error {
	var edges []bEdge
	for pi, p := range o.parts {
		for k, r := range p.rings {
			n := len(r)
			ids := make([]int, n)
			seen := map[int]bool{}
			for j := range r {
				ids[j] = o.vertex(p.plane[k][j], &r[j])
				if seen[ids[j]] && !p.line {
					o.invalid = true // a ring's vertices must be distinct
				}
				seen[ids[j]] = true
			}
			last := n
			if p.line {
				last = n - 1
			}
			for j := 0; j < last; j++ {
				a, b := ids[j], ids[(j+1)%n]
				if a == b {
					continue
				}
				pa, pb := o.verts[a].p, o.verts[b].p
				edges = append(edges, bEdge{a: a, b: b, part: pi, id: p.ids[k][j],
					lo: gPt{min(pa.x, pb.x), min(pa.y, pb.y)}, hi: gPt{max(pa.x, pb.x), max(pa.y, pb.y)}})
			}
		}
	}
	o.charge(int64(len(edges)) * 96)
	order := make([]int, len(edges))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		if edges[i].lo.x < edges[j].lo.x {
			return -1
		} else if edges[i].lo.x > edges[j].lo.x {
			return 1
		}
		return 0
	})
	var active []int
	pairs := 0
	for _, i := range order {
		e := &edges[i]
		kept := active[:0]
		for _, j := range active {
			if edges[j].hi.x >= e.lo.x-geoBoolEps {
				kept = append(kept, j)
			}
		}
		active = kept
		for _, j := range active {
			f := &edges[j]
			if f.hi.y < e.lo.y-geoBoolEps || f.lo.y > e.hi.y+geoBoolEps {
				continue
			}
			if pairs++; pairs > geoBoolMaxPairs {
				return errGeoBoolTooMany
			}
			o.meet(e, f)
		}
		active = append(active, i)
	}
	// split, then merge coincident pieces
	index := map[[2]int]int{}
	for i := range edges {
		e := &edges[i]
		pa, d := o.verts[e.a].p, o.verts[e.b].p.sub(o.verts[e.a].p)
		pts := append([]int{e.a, e.b}, e.splits...)
		slices.SortFunc(pts, func(x, y int) int {
			tx, ty := o.verts[x].p.sub(pa).dot(d), o.verts[y].p.sub(pa).dot(d)
			if tx < ty {
				return -1
			} else if tx > ty {
				return 1
			}
			return 0
		})
		pts = slices.Compact(pts)
		for k := 1; k < len(pts); k++ {
			a, b, dir := pts[k-1], pts[k], 1
			if a > b {
				a, b, dir = b, a, -1
			}
			key := [2]int{a, b}
			s, ok := index[key]
			if !ok {
				o.charge(96)
				s = len(o.segs)
				index[key] = s
				o.segs = append(o.segs, bSeg{a: a, b: b, minID: e.id})
			}
			seg := &o.segs[s]
			seg.minID = min(seg.minID, e.id)
			found := false
			for c := range seg.cover {
				if seg.cover[c].part == e.part {
					seg.cover[c].dir += dir
					found = true
					if !o.parts[e.part].line {
						o.invalid = true
					}
				}
			}
			if !found {
				seg.cover = append(seg.cover, bCover{e.part, dir})
			}
		}
	}
	return nil
}

// meet records where edges e and f touch or cross.
func (o *overlay) meet(e, f *bEdge) {
	onto := func(x *bEdge, v int) {
		if v == x.a || v == x.b {
			return
		}
		a, b, p := o.verts[x.a].p, o.verts[x.b].p, o.verts[v].p
		d := b.sub(a)
		l := math.Hypot(d.x, d.y)
		t := p.sub(a).dot(d) / (l * l)
		if t <= 0 || t >= 1 || math.Abs(d.cross(p.sub(a)))/l > geoBoolEps {
			return
		}
		x.splits = append(x.splits, v)
		if e.part == f.part && !o.parts[e.part].line {
			o.invalid = true
		}
	}
	onto(e, f.a)
	onto(e, f.b)
	onto(f, e.a)
	onto(f, e.b)
	if e.a == f.a || e.a == f.b || e.b == f.a || e.b == f.b || o.parts[e.part].line && o.parts[f.part].line {
		return // lines that cross are not split: only overlaps and touches are
	}
	a, b, c, d := o.verts[e.a].p, o.verts[e.b].p, o.verts[f.a].p, o.verts[f.b].p
	side := func(p, q, r gPt) float64 {
		u := q.sub(p)
		return u.cross(r.sub(p)) / math.Hypot(u.x, u.y)
	}
	o1, o2, o3, o4 := side(a, b, c), side(a, b, d), side(c, d, a), side(c, d, b)
	if math.Abs(o1) <= geoBoolEps || math.Abs(o2) <= geoBoolEps || math.Abs(o3) <= geoBoolEps || math.Abs(o4) <= geoBoolEps {
		return
	}
	if (o1 > 0) == (o2 > 0) || (o3 > 0) == (o4 > 0) {
		return
	}
	if e.part == f.part && !o.parts[e.part].line {
		o.invalid = true
	}
	t := o1 / (o1 - o2) // along f, c→d
	v := o.vertex(c.lerp(d, t), nil)
	if v != e.a && v != e.b {
		e.splits = append(e.splits, v)
	}
	if v != f.a && v != f.b {
		f.splits = append(f.splits, v)
	}
}

// contains reports whether part pi holds q (even-odd over its rings).
func (o *overlay) contains(pi int, q gPt) bool {
	p := &o.parts[pi]
	if p.line || q.x < p.lo.x || q.x > p.hi.x || q.y < p.lo.y || q.y > p.hi.y {
		return false
	}
	in := false
	for _, r := range p.plane {
		n := len(r)
		for i := 0; i < n; i++ {
			a, b := r[i], r[(i+1)%n]
			if (a.y > q.y) != (b.y > q.y) && q.x < a.x+(q.y-a.y)*(b.x-a.x)/(b.y-a.y) {
				in = !in
			}
		}
	}
	return in
}

// sides tells, for one segment, whether each operand (0, 1) lies on its
// left and on its right, and whether it runs along the operand's boundary.
func (o *overlay) sides(s *bSeg) (left, right, on [2]bool) {
	covered := map[int]bool{}
	for _, c := range s.cover {
		p := o.parts[c.part]
		covered[c.part] = true
		if p.line {
			on[p.op] = true
			continue
		}
		switch {
		case c.dir > 0:
			left[p.op], on[p.op] = true, true
		case c.dir < 0:
			right[p.op], on[p.op] = true, true
		default:
			delete(covered, c.part)
		}
	}
	mid := o.verts[s.a].p.lerp(o.verts[s.b].p, 0.5)
	for pi, p := range o.parts {
		if covered[pi] || p.line || left[p.op] && right[p.op] {
			continue
		}
		if o.contains(pi, mid) {
			left[p.op], right[p.op] = true, true
		}
	}
	return left, right, on
}

// overlayPolygons runs keep (which says, from whether a point is in
// operand 0 and in operand 1, whether it is in the result) over polygon
// parts. With shared, what the closed operands share without area (for
// an intersection) is kept as lines and points.
func overlayPolygons(parts []bPart, keep func(a, b bool) bool, shared bool, gov *governor, what string) (*bResult, error) {
	o, err := newOverlay(parts, gov, what)
	if err != nil {
		return nil, err
	}
	if err := o.node(); err != nil {
		return nil, err
	}
	if o.invalid {
		return nil, errGeoBoolInvalid
	}
	type dirEdge struct{ from, to, id int }
	var out []dirEdge
	var lineSegs []int
	touchA := make([]bool, len(o.verts))
	touchB := make([]bool, len(o.verts))
	used := make([]bool, len(o.verts))
	for i := range o.segs {
		s := &o.segs[i]
		l, r, on := o.sides(s)
		kl, kr := keep(l[0], l[1]), keep(r[0], r[1])
		switch {
		case kl && !kr:
			out = append(out, dirEdge{s.a, s.b, s.minID})
		case kr && !kl:
			out = append(out, dirEdge{s.b, s.a, s.minID})
		}
		if kl || kr {
			used[s.a], used[s.b] = true, true
			continue
		}
		if !shared {
			continue
		}
		if (on[0] || l[0]) && (on[1] || l[1]) {
			lineSegs = append(lineSegs, i)
			used[s.a], used[s.b] = true, true
		}
		if on[0] {
			touchA[s.a], touchA[s.b] = true, true
		}
		if on[1] {
			touchB[s.a], touchB[s.b] = true, true
		}
	}
	res := &bResult{verts: o.verts}
	if shared {
		for v := range o.verts {
			if touchA[v] && touchB[v] && !used[v] {
				res.points = append(res.points, v)
			}
		}
		res.lines = o.chains(lineSegs)
	}
	// loops: from each edge, turn left (the next outgoing edge clockwise
	// from the way back) until the loop closes
	outgoing := map[int][]int{}
	for i, e := range out {
		outgoing[e.from] = append(outgoing[e.from], i)
	}
	angle := func(e dirEdge) float64 {
		d := o.verts[e.to].p.sub(o.verts[e.from].p)
		return math.Atan2(d.y, d.x)
	}
	next := func(in dirEdge) int {
		back := angle(dirEdge{from: in.to, to: in.from})
		best, bestRot := -1, math.Inf(1)
		for _, j := range outgoing[in.to] {
			rot := math.Mod(back-angle(out[j])+4*math.Pi, 2*math.Pi)
			if rot <= 0 {
				rot = 2 * math.Pi
			}
			if rot < bestRot {
				best, bestRot = j, rot
			}
		}
		return best
	}
	done := make([]bool, len(out))
	var shells, holes []bLoop
	emit := func(edges []int) {
		if len(edges) < 3 {
			return
		}
		var loop bLoop
		for _, e := range edges {
			loop.v = append(loop.v, out[e].from)
			loop.ids = append(loop.ids, out[e].id)
		}
		if o.area(loop.v) > 0 {
			shells = append(shells, loop)
		} else {
			holes = append(holes, loop)
		}
	}
	// a walk that comes back to a vertex already on it peels off the loop
	// it closed, so loops touching at a vertex come out apart
	at := map[int]int{}
	for start := range out {
		var path []int
		for e := start; e >= 0 && !done[e]; e = next(out[e]) {
			done[e] = true
			path = append(path, e)
			at[out[e].from] = len(path) - 1
			if k, ok := at[out[e].to]; ok {
				for _, x := range path[k:] {
					delete(at, out[x].from)
				}
				emit(slices.Clone(path[k:]))
				path = path[:k]
			}
		}
		for _, x := range path {
			delete(at, out[x].from)
		}
	}
	for i := range shells {
		o.canonical(&shells[i])
	}
	for i := range holes {
		o.canonical(&holes[i])
	}
	byFirstID := func(a, b bLoop) int { return a.ids[0] - b.ids[0] }
	slices.SortStableFunc(shells, byFirstID)
	slices.SortStableFunc(holes, byFirstID)
	parent := make([][]bLoop, len(shells))
	areas := make([]float64, len(shells))
	for i, s := range shells {
		areas[i] = o.area(s.v)
	}
	for _, h := range holes {
		q := o.verts[h.v[0]].p.lerp(o.verts[h.v[1]].p, 0.5)
		best := -1
		for i, s := range shells {
			if (best < 0 || areas[i] < areas[best]) && o.inLoop(s.v, q) {
				best = i
			}
		}
		if best >= 0 {
			parent[best] = append(parent[best], h)
		}
	}
	for i, s := range shells {
		res.polys = append(res.polys, append([]bLoop{s}, parent[i]...))
	}
	return res, nil
}

// canonical rotates a loop as S2's builder does, so that shapes come out
// with the vertex order Kusto gives them: the loop is first walked from
// the vertex first in S2 cell order, then turned so that the run of edges
// from the highest input edge ends it (an input ring that comes out whole
// keeps its first vertex).
func (o *overlay) canonical(l *bLoop) {
	n := len(l.v)
	cell := make([]s2.CellID, n)
	for i, v := range l.v {
		cell[i] = s2.CellFromPoint(o.verts[v].sp).ID()
	}
	first := 0
	for i := 1; i < n; i++ {
		if cell[i] < cell[first] || cell[i] == cell[first] && cell[(i+1)%n] < cell[(first+1)%n] {
			first = i
		}
	}
	rotate := func(k int) {
		l.v = append(l.v[k:], l.v[:k]...)
		l.ids = append(l.ids[k:], l.ids[:k]...)
	}
	rotate(first)
	pos, gap := 0, false
	for i := 1; i < n; i++ {
		switch d := l.ids[i] - l.ids[pos]; {
		case d < 0:
			gap = true
		case d > 0 || !gap:
			pos, gap = i, false
		}
	}
	rotate((pos + 1) % n)
}

// s2Polygon is the result's polygons as one S2 polygon (holes turned
// counterclockwise around themselves, as S2 wants its loops).
func (r *bResult) s2Polygon() *s2.Polygon {
	var loops []*s2.Loop
	for _, poly := range r.polys {
		for k, l := range poly {
			pts := make([]s2.Point, len(l.v))
			for i, v := range l.v {
				pts[i] = r.verts[v].sp
			}
			if k > 0 {
				slices.Reverse(pts)
			}
			loops = append(loops, s2.LoopFromPoints(pts))
		}
	}
	return s2.PolygonFromLoops(loops)
}

// area is a loop's signed planar area (positive counterclockwise).
func (o *overlay) area(v []int) float64 {
	var sum float64
	for i := range v {
		a, b := o.verts[v[i]].p, o.verts[v[(i+1)%len(v)]].p
		sum += a.cross(b)
	}
	return sum / 2
}

func (o *overlay) inLoop(v []int, q gPt) bool {
	in := false
	for i := range v {
		a, b := o.verts[v[i]].p, o.verts[v[(i+1)%len(v)]].p
		if (a.y > q.y) != (b.y > q.y) && q.x < a.x+(q.y-a.y)*(b.x-a.x)/(b.y-a.y) {
			in = !in
		}
	}
	return in
}

// chains joins segments into polylines: a chain runs through vertices
// where exactly two of the segments meet, and is directed as the first
// input edge along its first segment. Closed chains start at their
// lowest input edge.
func (o *overlay) chains(segIDs []int) [][]int {
	adj := map[int][]int{}
	for _, s := range segIDs {
		adj[o.segs[s].a] = append(adj[o.segs[s].a], s)
		adj[o.segs[s].b] = append(adj[o.segs[s].b], s)
	}
	slices.SortFunc(segIDs, func(x, y int) int { return o.segs[x].minID - o.segs[y].minID })
	used := map[int]bool{}
	other := func(s, v int) int {
		if o.segs[s].a == v {
			return o.segs[s].b
		}
		return o.segs[s].a
	}
	// the first input direction along a segment
	forward := func(s int) (int, int) {
		seg := o.segs[s]
		for _, c := range seg.cover {
			if c.dir < 0 {
				return seg.b, seg.a
			}
			if c.dir > 0 {
				break
			}
		}
		return seg.a, seg.b
	}
	walk := func(s, from int) []int {
		chain := []int{from}
		v := from
		for {
			used[s] = true
			v = other(s, v)
			chain = append(chain, v)
			if len(adj[v]) != 2 {
				return chain
			}
			n := adj[v][0]
			if n == s {
				n = adj[v][1]
			}
			if used[n] {
				return chain
			}
			s = n
		}
	}
	var out [][]int
	for _, s := range segIDs {
		if used[s] {
			continue
		}
		a, b := forward(s)
		if len(adj[a]) == 2 && len(adj[b]) == 2 {
			continue // inside a chain, or a cycle: found from its ends below
		}
		var back []int
		if len(adj[a]) == 2 {
			// extend backwards first
			n := adj[a][0]
			if n == s {
				n = adj[a][1]
			}
			back = walk(n, a)
			slices.Reverse(back)
			back = back[:len(back)-1]
		}
		fwd := walk(s, a)
		if len(back) > 0 || len(fwd) > 0 {
			out = append(out, append(back, fwd...))
		}
	}
	for _, s := range segIDs {
		if !used[s] {
			a, _ := forward(s)
			out = append(out, walk(s, a))
		}
	}
	return out
}
