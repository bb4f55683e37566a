//go:build cgo

package kql

import (
	"strconv"

	h3 "github.com/uber/h3-go/v4"
)

// H3 cell functions. The cells, their hierarchy, neighbors and polygon
// filling are Uber's H3 C library (through github.com/uber/h3-go, which
// needs cgo; h3_nocgo.go refuses the same names when cgo is off). A cell
// token is the cell's 64-bit index in hexadecimal, as H3 prints it
// ("862a1072fffffff"). Invalid cells, resolutions and distances give
// what each reference page documents: an empty string for the functions
// that return a token, null for the others.
//
// h3-go does not report the C library's error codes (an invalid cell or
// resolution yields zeros, and a size of zero is then indexed), so every
// argument is checked here before a call reaches it.

// h3MaxChildrenDelta is the largest number of levels geo_h3cell_children
// descends: 7^5 = 16,807 children, the reference's limit.
const h3MaxChildrenDelta = 5

// h3MaxRingDistance is geo_h3cell_rings' largest distance.
const h3MaxRingDistance = 142

// h3TokenBytes is what one token costs in a dynamic array: the slot, the
// string header and its 15 digits, counted against the query's memory.
const h3TokenBytes = 16 + 16 + 16

// h3CellArg reads an H3 cell token: 1 to 16 hexadecimal digits naming a
// valid cell (hexagon or pentagon).
func h3CellArg(v Value) (h3.Cell, bool) {
	s := scalarOf(v)
	if s.T != TypeString || s.s == "" || len(s.s) > 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(s.s, 16, 64)
	if err != nil {
		return 0, false
	}
	c := h3.Cell(n)
	return c, c.IsValid()
}

// h3Tokens renders cells as a dynamic array of tokens.
func h3Tokens(cells []h3.Cell) []any {
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = c.String()
	}
	return out
}

// h3CellFunc builds a function of an H3 cell token and, at position 1,
// an optional int (a resolution or a distance): a token or int of another
// static type is a compile error, an invalid token gives invalid, and f
// sees the valid cell and the argument values.
func h3CellFunc(min, max int, t Type, invalid Value, f func(c h3.Cell, v []Value) Value) fnImpl {
	return func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoArity(call, args, min, max); err != nil {
			return cexpr{}, err
		}
		for i, a := range args {
			switch at := concreteType(a.t); {
			case at == TypeUnknown || at == TypeDynamic:
			case i == 0 && at != TypeString:
				return cexpr{}, errAt(call, "%s: argument 1 (the H3 cell token) must be a string, got %s", call.Name, at)
			case i == 1 && at != TypeInt && at != TypeLong:
				return cexpr{}, errAt(call, "%s: argument 2 must be an int, got %s", call.Name, at)
			}
		}
		return evalN(t, args, func(_ Type, v []Value) Value {
			c, ok := h3CellArg(v[0])
			if !ok {
				return invalid
			}
			return f(c, v)
		}), nil
	}
}

// h3PointValue is the GeoJSON point of a cell's center, longitude first.
func h3PointValue(ll h3.LatLng) Value {
	return geoShapeValueAny("Point", []any{ll.Lng, ll.Lat})
}

func init() {
	// geo_point_to_h3cell(longitude, latitude[, resolution = 6])
	geoLevelArg["geo_point_to_h3cell"] = 2
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if err := geoCheck(call, args, 2, 3); err != nil {
			return cexpr{}, err
		}
		return evalN(TypeString, args, func(_ Type, v []Value) Value {
			lng, ok1 := geoNum(v[0])
			lat, ok2 := geoNum(v[1])
			res, ok3 := geoLevel(v, 2, 6, 0, h3.MaxResolution)
			if !ok1 || !ok2 || !ok3 || lng < -180 || lng > 180 || lat < -90 || lat > 90 {
				return String("")
			}
			return String(h3.LatLngToCell(h3.NewLatLng(lat, lng), res).String())
		}), nil
	}, "geo_point_to_h3cell")

	// geo_h3cell_level(h3cell)
	register(h3CellFunc(1, 1, TypeInt, Null(TypeInt), func(c h3.Cell, _ []Value) Value {
		return Int(int64(c.Resolution()))
	}), "geo_h3cell_level")

	// geo_h3cell_parent(h3cell[, resolution]): the immediate parent by
	// default; a resolution in [0, 14] and not finer than the cell's.
	register(h3CellFunc(1, 2, TypeString, String(""), func(c h3.Cell, v []Value) Value {
		// the default (the level above) is range-checked too: a level-0
		// cell has no parent
		res, ok := geoLevel(v, 1, int64(c.Resolution()-1), 0, h3.MaxResolution-1)
		if !ok || res < 0 || res > c.Resolution() {
			return String("")
		}
		return String(c.Parent(res).String())
	}), "geo_h3cell_parent")

	// geo_h3cell_to_central_point(h3cell)
	register(h3CellFunc(1, 1, TypeDynamic, Null(TypeDynamic), func(c h3.Cell, _ []Value) Value {
		return h3PointValue(c.LatLng())
	}), "geo_h3cell_to_central_point")

	// geo_h3cell_to_polygon(h3cell): the cell's boundary in H3's order
	// (counterclockwise), closed; a pentagon, or a cell crossing an
	// icosahedron edge, has more vertices than six.
	register(h3CellFunc(1, 1, TypeDynamic, Null(TypeDynamic), func(c h3.Cell, _ []Value) Value {
		b := c.Boundary()
		ring := make([][2]float64, len(b))
		for i, ll := range b {
			ring[i] = [2]float64{ll.Lng, ll.Lat}
		}
		return geoPolygonValue(ring)
	}), "geo_h3cell_to_polygon")
}

func init() {
	// geo_h3cell_children(h3cell[, resolution]): the immediate children by
	// default; a resolution in [1, 15], not coarser than the cell's and at
	// most five levels below it.
	governedFuncs["geo_h3cell_children"] = func(g *governor) fnImpl {
		return h3CellFunc(1, 2, TypeDynamic, Null(TypeDynamic), func(c h3.Cell, v []Value) Value {
			// the default (the level below) is range-checked too: a
			// level-15 cell has no children
			res, ok := geoLevel(v, 1, int64(c.Resolution()+1), 1, h3.MaxResolution)
			if !ok || res > h3.MaxResolution || res < c.Resolution() || res-c.Resolution() > h3MaxChildrenDelta {
				return Null(TypeDynamic)
			}
			n := int64(1)
			for range res - c.Resolution() {
				n *= 7
			}
			g.alloc("geo_h3cell_children function", n*h3TokenBytes)
			return Dynamic(h3Tokens(c.Children(res)))
		})
	}

	// geo_h3cell_neighbors(h3cell): the cells at grid distance 1 (five
	// around a pentagon).
	register(h3CellFunc(1, 1, TypeDynamic, Null(TypeDynamic), func(c h3.Cell, _ []Value) Value {
		disk := c.GridDisk(1)
		out := make([]any, 0, len(disk))
		for _, n := range disk {
			if n != c {
				out = append(out, n.String())
			}
		}
		return Dynamic(out)
	}), "geo_h3cell_neighbors")

	// geo_h3cell_rings(h3cell, distance): ring k holds the cells at grid
	// distance k, for k in [0, distance]; a cell H3 cannot place because of
	// a pentagon's distortion is left out.
	governedFuncs["geo_h3cell_rings"] = func(g *governor) fnImpl {
		return h3CellFunc(2, 2, TypeDynamic, Null(TypeDynamic), func(c h3.Cell, v []Value) Value {
			k, ok := geoLevel(v, 1, 0, 0, h3MaxRingDistance)
			if !ok {
				return Null(TypeDynamic)
			}
			// the C library works in buffers of hexes and distances of
			// the disk's size, and the rings hold as many tokens
			disk := int64(3*k*(k+1) + 1)
			g.alloc("geo_h3cell_rings function", disk*(h3TokenBytes+16))
			rings := h3.GridDiskDistances(c, k)
			out := make([]any, len(rings))
			for i, r := range rings {
				cells := make([]h3.Cell, 0, len(r))
				for _, x := range r {
					if x != 0 { // a slot the C library left empty
						cells = append(cells, x)
					}
				}
				out[i] = h3Tokens(cells)
			}
			return Dynamic(out)
		})
	}
}
