package kql

import (
	"sort"
)

func arrArg(v []Value, i int) ([]any, bool) {
	if i >= len(v) {
		return nil, false
	}
	x := v[i]
	if x.T != TypeDynamic || !x.ok {
		return nil, false
	}
	a, ok := x.d.([]any)
	return a, ok
}

func bagArg(v []Value, i int) (*Bag, bool) {
	if i >= len(v) || v[i].T != TypeDynamic || !v[i].ok {
		return nil, false
	}
	b, ok := v[i].d.(*Bag)
	return b, ok
}

func dynFn(min, max int, f func(v []Value) Value) fnImpl {
	return fixed(min, max, ret(TypeDynamic), func(_ Type, v []Value) Value { return f(v) })
}

func init() {
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value {
		a, ok := arrArg(v, 0)
		if !ok {
			return Null(TypeLong)
		}
		return Long(int64(len(a)))
	}), "array_length")
	pack := dynFn(0, -1, func(v []Value) Value {
		b := NewBag()
		for i := 0; i+1 < len(v); i += 2 {
			b.Set(str(v, i), dynAny(v[i+1]))
		}
		return Dynamic(b)
	})
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args)%2 != 0 {
			return cexpr{}, errAt(call, "%s needs key/value pairs", call.Name)
		}
		return pack(call, args)
	}, "pack", "bag_pack", "pack_dictionary")
	register(dynFn(0, -1, func(v []Value) Value {
		arr := make([]any, len(v))
		for i, x := range v {
			arr[i] = dynAny(x)
		}
		return Dynamic(arr)
	}), "pack_array")
	register(dynFn(1, 1, func(v []Value) Value {
		b, ok := bagArg(v, 0)
		if !ok {
			return Null(TypeDynamic)
		}
		out := make([]any, len(b.Keys))
		for i, k := range b.Keys {
			out[i] = k
		}
		return Dynamic(out)
	}), "bag_keys")
	register(fixed(2, 2, ret(TypeBool), func(_ Type, v []Value) Value {
		b, ok := bagArg(v, 0)
		if !ok {
			return Bool(false)
		}
		_, has := b.Get(str(v, 1))
		return Bool(has)
	}), "bag_has_key")
	// bag_merge: the first bag that has a key gives its value. Kusto has no
	// bag_merge_force (agent-dynamic-json-0011#3: an unknown function).
	register(dynFn(1, -1, func(v []Value) Value {
		out := NewBag()
		for i := range v {
			b, ok := bagArg(v, i)
			if !ok {
				continue
			}
			for _, k := range b.Keys {
				if _, dup := out.M[k]; !dup {
					out.Set(k, b.M[k])
				}
			}
		}
		return Dynamic(out)
	}), "bag_merge")
	register(dynFn(2, -1, func(v []Value) Value {
		b, ok := bagArg(v, 0)
		if !ok {
			return Null(TypeDynamic)
		}
		drop := map[string]bool{}
		for i := 1; i < len(v); i++ {
			if a, ok := arrArg(v, i); ok {
				for _, k := range a {
					drop[stringOf(Dynamic(k))] = true
				}
			} else {
				drop[str(v, i)] = true
			}
		}
		out := NewBag()
		for _, k := range b.Keys {
			if !drop[k] {
				out.Set(k, b.M[k])
			}
		}
		return Dynamic(out)
	}), "bag_remove_keys")
	register(dynFn(3, 3, func(v []Value) Value {
		a, ok := arrArg(v, 0)
		s, ok1 := intArg(v, 1, 0)
		e, ok2 := intArg(v, 2, 0)
		if !ok || !ok1 || !ok2 {
			return Null(TypeDynamic)
		}
		n := int64(len(a))
		if s < 0 {
			s += n
		}
		if e < 0 {
			e += n
		}
		if s < 0 {
			s = 0
		}
		if e >= n {
			e = n - 1
		}
		if s > e || s >= n {
			return Dynamic([]any{})
		}
		return Dynamic(append([]any{}, a[s:e+1]...))
	}), "array_slice")
	register(dynFn(1, 1, func(v []Value) Value {
		a, ok := arrArg(v, 0)
		if !ok {
			return Null(TypeDynamic)
		}
		out := make([]any, len(a))
		for i := range a {
			out[i] = a[len(a)-1-i]
		}
		return Dynamic(out)
	}), "array_reverse")
	sorter := func(asc bool) func(v []Value) Value {
		return func(v []Value) Value {
			a, ok := arrArg(v, 0)
			if !ok {
				return Null(TypeDynamic)
			}
			out := append([]any{}, a...)
			nullsLast := true
			if len(v) > 1 {
				nb := scalarOf(v[1])
				if nb.T == TypeBool && nb.ok {
					nullsLast = nb.i == 0
				}
			}
			sort.SliceStable(out, func(i, j int) bool {
				return sortCompare(scalarOf(Dynamic(out[i])), scalarOf(Dynamic(out[j])), asc, !nullsLast) < 0
			})
			return Dynamic(out)
		}
	}
	register(dynFn(1, 2, sorter(true)), "array_sort_asc")
	register(dynFn(1, 2, sorter(false)), "array_sort_desc")
	register(fixed(1, 1, ret(TypeReal), func(_ Type, v []Value) Value {
		a, ok := arrArg(v, 0)
		if !ok || len(a) == 0 {
			return Null(TypeReal)
		}
		s := 0.0
		for _, e := range a {
			x := scalarOf(Dynamic(e))
			if x.IsNull() || !x.T.isNumeric() {
				continue
			}
			s += x.AsReal()
		}
		return Real(s)
	}), "array_sum")
	register(fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		a, ok := arrArg(v, 0)
		if !ok {
			return Null(TypeLong)
		}
		for i, e := range a {
			if eq, ok := valuesEqual(scalarOf(Dynamic(e)), v[1]); ok && eq {
				return Long(int64(i))
			}
		}
		return Long(-1)
	}), "array_index_of")
	register(dynFn(3, 3, func(v []Value) Value {
		c, ok := arrArg(v, 0)
		if !ok {
			return Null(TypeDynamic)
		}
		pick := func(i, k int) any {
			if a, ok := arrArg(v, i); ok {
				if k < len(a) {
					return a[k]
				}
				return nil
			}
			return dynAny(v[i])
		}
		out := make([]any, len(c))
		for k, e := range c {
			b := scalarOf(Dynamic(e))
			if b.T == TypeBool && b.i != 0 || b.T.isNumeric() && b.AsReal() != 0 {
				out[k] = pick(1, k)
			} else if b.IsNull() {
				out[k] = nil
			} else {
				out[k] = pick(2, k)
			}
		}
		return Dynamic(out)
	}), "array_iff", "array_iif")
	register(dynFn(2, 2, func(v []Value) Value {
		a, ok := arrArg(v, 0)
		if !ok {
			return Null(TypeDynamic)
		}
		var idx []int64
		if ia, ok := arrArg(v, 1); ok {
			for _, e := range ia {
				if n, ok := e.(int64); ok {
					idx = append(idx, n)
				}
			}
		} else if n, ok := intArg(v, 1, 0); ok {
			idx = []int64{n}
		}
		var out []any
		prev := int64(0)
		for _, i := range idx {
			if i > int64(len(a)) {
				i = int64(len(a))
			}
			if i < prev {
				i = prev
			}
			out = append(out, append([]any{}, a[prev:i]...))
			prev = i
		}
		out = append(out, append([]any{}, a[prev:]...))
		return Dynamic(out)
	}), "array_split")
	setOp := func(keep func(inAll, inAny int, n int, first bool) bool, firstOnly bool) func(v []Value) Value {
		return func(v []Value) Value {
			var arrs [][]any
			for i := range v {
				a, ok := arrArg(v, i)
				if !ok {
					return Null(TypeDynamic)
				}
				arrs = append(arrs, a)
			}
			count := map[string]int{}
			inFirst := map[string]bool{}
			for i, a := range arrs {
				seen := map[string]bool{}
				for _, e := range a {
					k := jsonCompact(e)
					if !seen[k] {
						seen[k] = true
						count[k]++
						if i == 0 {
							inFirst[k] = true
						}
					}
				}
			}
			out := []any{}
			emitted := map[string]bool{}
			for i, a := range arrs {
				if firstOnly && i > 0 {
					break
				}
				for _, e := range a {
					k := jsonCompact(e)
					if emitted[k] {
						continue
					}
					if keep(count[k], 0, len(arrs), inFirst[k]) {
						emitted[k] = true
						out = append(out, e)
					}
				}
			}
			return Dynamic(out)
		}
	}
	register(dynFn(2, -1, setOp(func(c, _, n int, _ bool) bool { return true }, false)), "set_union")
	register(dynFn(2, -1, setOp(func(c, _, n int, _ bool) bool { return c == n }, true)), "set_intersect")
	register(dynFn(2, -1, setOp(func(c, _, n int, first bool) bool { return first && c == 1 }, true)), "set_difference")
	register(fixed(2, 2, ret(TypeBool), func(_ Type, v []Value) Value {
		a, ok := arrArg(v, 0)
		if !ok {
			return Null(TypeBool)
		}
		for _, e := range a {
			if eq, ok := valuesEqual(scalarOf(Dynamic(e)), v[1]); ok && eq {
				return Bool(true)
			}
		}
		return Bool(false)
	}), "set_has_element")
	register(fixed(2, 2, ret(TypeReal), func(_ Type, v []Value) Value {
		a, ok1 := arrArg(v, 0)
		b, ok2 := arrArg(v, 1)
		if !ok1 || !ok2 {
			return Null(TypeReal)
		}
		sa, sb := map[string]bool{}, map[string]bool{}
		for _, e := range a {
			sa[jsonCompact(e)] = true
		}
		for _, e := range b {
			sb[jsonCompact(e)] = true
		}
		inter, union := 0, len(sa)
		for k := range sb {
			if sa[k] {
				inter++
			} else {
				union++
			}
		}
		if union == 0 {
			return Real(0)
		}
		return Real(float64(inter) / float64(union))
	}), "jaccard_index")
	register(dynFn(2, -1, func(v []Value) Value {
		var arrs [][]any
		n := 0
		for i := range v {
			a, ok := arrArg(v, i)
			if !ok {
				return Null(TypeDynamic)
			}
			arrs = append(arrs, a)
			if len(a) > n {
				n = len(a)
			}
		}
		out := make([]any, n)
		for k := range out {
			row := make([]any, len(arrs))
			for i, a := range arrs {
				if k < len(a) {
					row[i] = a[k]
				}
			}
			out[k] = row
		}
		return Dynamic(out)
	}), "zip")
	register(dynFn(1, 1, func(v []Value) Value {
		var out []any
		var walk func(prefix string, x any)
		walk = func(prefix string, x any) {
			switch d := x.(type) {
			case *Bag:
				for _, k := range d.Keys {
					p := prefix + "['" + k + "']"
					out = append(out, p)
					walk(p, d.M[k])
				}
			case []any:
				p := prefix + "[0]"
				if len(d) > 0 {
					out = append(out, p)
					walk(p, d[0])
				}
			}
		}
		walk("", v[0].d)
		if out == nil {
			out = []any{}
		}
		return Dynamic(out)
	}), "treepath")
	register(fixed(1, 1, ret(TypeString), func(_ Type, v []Value) Value {
		if v[0].T != TypeDynamic {
			return String(jsonCompact(dynAny(v[0])))
		}
		return String(jsonCompact(sortBags(v[0].d)))
	}), "dynamic_to_json")
}
