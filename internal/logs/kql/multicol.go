package kql

import (
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
)

// Functions that return several columns (series_stats, series_fit_line,
// series_fit_2lines, the series_decompose family, series_periods_detect)
// stand alone in extend, project or print, optionally behind a name list:
//
//	extend (rs, slope) = series_fit_line(y)
//
// Each is rewritten into one item per column before compiling; the columns
// read the fields of a property bag that one function computes: its
// _dynamic twin where Kusto has one, or an internal function whose name
// holds a '/', which no query can spell.

// mcField is one output column: its suffix, the bag path and its type.
type mcField struct {
	name string
	path []string
	t    Type
}

type multiColFn struct {
	impl   string
	fields []mcField
}

func fields(t Type, names ...string) []mcField {
	out := make([]mcField, len(names))
	for i, n := range names {
		out[i] = mcField{name: n, path: []string{n}, t: t}
	}
	return out
}

func sideFields(side string) []mcField {
	var out []mcField
	for _, n := range []string{"rsquare", "slope", "interception", "variance", "rvariance"} {
		out = append(out, mcField{name: side + "_" + n, path: []string{side, n}, t: TypeReal})
	}
	return out
}

var multiCols = map[string]multiColFn{
	"series_stats": {impl: "series_stats_dynamic", fields: []mcField{
		{"min", []string{"min"}, TypeReal}, {"min_idx", []string{"min_idx"}, TypeLong},
		{"max", []string{"max"}, TypeReal}, {"max_idx", []string{"max_idx"}, TypeLong},
		{"avg", []string{"avg"}, TypeReal}, {"stdev", []string{"stdev"}, TypeReal},
		{"variance", []string{"variance"}, TypeReal},
	}},
	"series_fit_line": {impl: "series_fit_line_dynamic", fields: append(
		fields(TypeReal, "rsquare", "slope", "variance", "rvariance", "interception"),
		mcField{"line_fit", []string{"line_fit"}, TypeDynamic})},
	"series_fit_2lines": {impl: "series_fit_2lines_dynamic", fields: append(append(append(
		[]mcField{{"rsquare", []string{"rsquare"}, TypeReal}, {"split_idx", []string{"split_idx"}, TypeLong}},
		fields(TypeReal, "variance", "rvariance")...),
		mcField{"line_fit", []string{"line_fit"}, TypeDynamic}),
		append(sideFields("right"), sideFields("left")...)...)},
	"series_decompose":           {impl: "series_decompose/bag", fields: fields(TypeDynamic, "baseline", "seasonal", "trend", "residual")},
	"series_decompose_anomalies": {impl: "series_decompose_anomalies/bag", fields: fields(TypeDynamic, "ad_flag", "ad_score", "baseline")},
	"series_periods_detect":      {impl: "series_periods_detect/bag", fields: fields(TypeDynamic, "periods", "scores")},
}

// multiColError is the error of a several-column function used where one
// value is needed.
func multiColError(x *Call) error {
	alt := ""
	if mc := multiCols[x.Name]; !strings.Contains(mc.impl, "/") {
		alt = fmt.Sprintf(", or %s() for one dynamic value", mc.impl)
	}
	return errAt(x, "%s() returns several columns and cannot be an argument of another function: use it alone in extend, project or print, as (a, b, ...) = %s(...)%s", x.Name, x.Name, alt)
}

// expandMulti rewrites the several-column items of an extend, project or
// print into one item per column. Unnamed, the columns are called
// {function}_{argument}_{field}; with a name list, the first columns take
// the names and, in project only, the rest keep their generated names
// (Kusto's documented behaviour for series_fit_2lines).
func expandMulti(items []Assign, keepRest bool) ([]Assign, error) {
	var out []Assign
	for _, it := range items {
		call, _ := it.X.(*Call)
		mc, multi := multiColFn{}, false
		if call != nil {
			mc, multi = multiCols[call.Name]
		}
		if !multi {
			if len(it.Names) > 0 {
				return nil, errAt(it.X, "a name list (a, b, ...) = needs a function that returns several columns")
			}
			out = append(out, it)
			continue
		}
		if it.Name != "" {
			// "st = series_stats(s)" names the first column (Kusto's
			// answer in the conformance data: st is the minimum)
			it.Names = []string{it.Name}
		}
		if len(it.Names) > len(mc.fields) {
			return nil, errAt(it.X, "%s() returns %d columns, %d names given", call.Name, len(mc.fields), len(it.Names))
		}
		prefix := call.Name + "_"
		if len(call.Args) > 0 {
			if n := derivedName(call.Args[0]); n != "" {
				prefix += n + "_"
			}
		}
		bag := &Call{At: call.At, Name: mc.impl, Args: call.Args, memo: &callMemo{}}
		for i, f := range mc.fields {
			name := prefix + f.name
			if i < len(it.Names) {
				name = it.Names[i]
			} else if len(it.Names) > 0 && !keepRest {
				break
			}
			var x Expr = bag
			for _, p := range f.path {
				x = &Member{At: call.At, X: x, Name: p}
			}
			switch f.t {
			case TypeReal:
				x = &Call{At: call.At, Name: "todouble", Args: []Expr{x}}
			case TypeLong:
				x = &Call{At: call.At, Name: "tolong", Args: []Expr{x}}
			}
			out = append(out, Assign{Name: name, X: x})
		}
	}
	return out, nil
}

// callMemo keeps a call's last arguments and result. Arrays are compared
// by identity (a row's series is never changed in place), other values by
// content, so a hit always has the same inputs as the miss that filled it.
type callMemo struct {
	last atomic.Pointer[memoEntry]
}

type memoEntry struct {
	key []argKey
	v   Value
}

type argKey struct {
	t   Type
	ok  bool
	i   int64
	s   string
	ptr uintptr
	n   int
	d   any
}

func memoKey(v Value) argKey {
	k := argKey{t: v.T, ok: v.ok, i: v.i, s: v.s}
	switch d := v.d.(type) {
	case nil:
	case []any, map[string]any:
		rv := reflect.ValueOf(d)
		k.ptr, k.n = rv.Pointer(), rv.Len()
	default:
		if reflect.TypeOf(d).Comparable() {
			k.d = d
		} else {
			k.ptr = reflect.ValueOf(d).Pointer()
		}
	}
	return k
}

func (m *callMemo) wrap(c cexpr, args []cexpr) cexpr {
	inner := c.f
	c.f = func(r Row) Value {
		key := make([]argKey, len(args))
		for i, a := range args {
			key[i] = memoKey(a.f(r))
		}
		if e := m.last.Load(); e != nil && sameKey(e.key, key) {
			return e.v
		}
		v := inner(r)
		m.last.Store(&memoEntry{key: key, v: v})
		return v
	}
	return c
}

func sameKey(a, b []argKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
