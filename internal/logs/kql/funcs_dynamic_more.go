package kql

import (
	"math"
	"strings"
)

// Dynamic and math functions from the Kusto reference that the first pass
// left out: pack_all, array_shift_left/right, bag_set_key, degrees,
// radians, cot, gamma, loggamma, erf, erfc.

// compilePackAll packs the row's columns into a bag, by column name in
// column order; pack_all(true) leaves out null and empty values.
func (s *scope) compilePackAll(x *Call) (cexpr, error) {
	if len(x.Args) > 1 {
		return cexpr{}, errAt(x, "pack_all takes 0 to 1 arguments, got %d", len(x.Args))
	}
	skipEmpty := false
	if len(x.Args) == 1 {
		a, err := s.compileExpr(x.Args[0])
		if err != nil {
			return cexpr{}, err
		}
		v, ok := constArg(a)
		if !ok || concreteType(v.T) != TypeBool {
			return cexpr{}, errAt(x, "pack_all: ignore_null_empty must be a constant bool")
		}
		skipEmpty = v.AsBool()
	}
	// in an extend, the scope is the input row: not the columns earlier
	// items of the same extend add
	cols := append([]Column(nil), s.cols...)
	return cexpr{t: TypeDynamic, f: func(r Row) Value {
		b := NewBag()
		for i, c := range cols {
			if i >= len(r) || skipEmpty && isEmpty(r[i]) {
				continue
			}
			b.Set(c.Name, dynAny(r[i]))
		}
		return Dynamic(b)
	}}, nil
}

// shiftArray moves the elements n places left (right when n < 0), filling
// with def.
func shiftArray(a []any, n int64, def any) []any {
	out := make([]any, len(a))
	for i := range out {
		j := int64(i) + n
		if j >= 0 && j < int64(len(a)) {
			out[i] = a[j]
		} else {
			out[i] = def
		}
	}
	return out
}

// shiftDefault is the filler of a shift without a default value: an
// empty string for an array of strings, null otherwise (the reference:
// "null or an empty string depending on the type of elements").
func shiftDefault(a []any) any {
	if len(a) == 0 {
		return nil
	}
	for _, e := range a {
		if _, ok := e.(string); !ok {
			return nil
		}
	}
	return ""
}

// bagSetKey sets key (a name, or a $.a.b path of names) in a copy of b,
// making the missing levels; a path through a value that is not a bag
// replaces it with one.
func bagSetKey(b *Bag, key string, val any) (*Bag, bool) {
	path := []string{key}
	if strings.HasPrefix(key, "$") {
		rest := strings.TrimPrefix(key, "$")
		if rest == "" || !strings.HasPrefix(rest, ".") || strings.ContainsAny(rest, "[]") {
			return nil, false
		}
		path = strings.Split(rest[1:], ".")
		for _, p := range path {
			if p == "" {
				return nil, false
			}
		}
	}
	var set func(b *Bag, path []string) *Bag
	set = func(b *Bag, path []string) *Bag {
		out := NewBag()
		if b != nil {
			for _, k := range b.Keys {
				out.Set(k, b.M[k])
			}
		}
		if len(path) == 1 {
			out.Set(path[0], val)
			return out
		}
		inner, _ := out.M[path[0]].(*Bag)
		out.Set(path[0], set(inner, path[1:]))
		return out
	}
	return set(b, path), true
}

func realFn(f func(float64) float64) fnImpl {
	return fixed(1, 1, func(a []cexpr) (Type, bool) {
		t := concreteType(a[0].t)
		return TypeReal, t.isNumeric() || t == TypeDynamic || t == TypeUnknown
	}, func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.IsNull() || !s.T.isNumeric() {
			return Null(TypeReal)
		}
		return Real(f(s.AsReal()))
	})
}

func init() {
	shift := func(sign int64) fnImpl {
		return dynFn(2, 3, func(v []Value) Value {
			a, ok := arrArg(v, 0)
			n, ok2 := intArg(v, 1, 0)
			if !ok || !ok2 {
				return Null(TypeDynamic)
			}
			def := shiftDefault(a)
			if len(v) > 2 {
				def = dynAny(v[2])
			}
			return Dynamic(shiftArray(a, sign*n, def))
		})
	}
	register(shift(1), "array_shift_left")
	register(shift(-1), "array_shift_right")

	register(dynFn(3, 3, func(v []Value) Value {
		b, ok := bagArg(v, 0)
		if !ok {
			return Null(TypeDynamic)
		}
		out, ok := bagSetKey(b, str(v, 1), dynAny(v[2]))
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(out)
	}), "bag_set_key")

	register(realFn(func(x float64) float64 { return x * 180 / math.Pi }), "degrees")
	register(realFn(func(x float64) float64 { return x * math.Pi / 180 }), "radians")
	register(realFn(func(x float64) float64 { return 1 / math.Tan(x) }), "cot")
	register(realFn(math.Gamma), "gamma")
	register(realFn(func(x float64) float64 { l, _ := math.Lgamma(x); return l }), "loggamma")
	register(realFn(math.Erf), "erf")
	register(realFn(math.Erfc), "erfc")
}

// compileBagPackColumns packs the named columns into a bag, each under its
// column's name; an argument that is not a column is an error.
func (s *scope) compileBagPackColumns(x *Call) (cexpr, error) {
	if len(x.Args) == 0 {
		return cexpr{}, errAt(x, "bag_pack_columns needs at least one column")
	}
	names := make([]string, len(x.Args))
	idx := make([]int, len(x.Args))
	for i, a := range x.Args {
		id, ok := a.(*Ident)
		if !ok || s.col(id.Name) < 0 {
			return cexpr{}, errAt(x, "bag_pack_columns: argument %d is not a column", i+1)
		}
		names[i], idx[i] = s.cols[s.col(id.Name)].Name, s.col(id.Name)
	}
	return cexpr{t: TypeDynamic, f: func(r Row) Value {
		b := NewBag()
		for i, n := range names {
			b.Set(n, dynAny(r[idx[i]]))
		}
		return Dynamic(b)
	}}, nil
}
