package kql

import (
	"strings"
)

// governedFuncs holds the scalar functions whose output size the caller
// chooses (a repeat count, or arguments that may each be large): they see
// the query's governor and check the size of what they are about to build
// against what is left of its memory budget before allocating it.
var governedFuncs = map[string]func(g *governor) fnImpl{}

// maxStrrep is strrep's largest multiplier (Kusto documents 1 to
// 67,108,864); a larger one repeats that many times, as Kusto's note on
// the maximum says.
const maxStrrep = 64 << 20

func init() {
	governedFuncs["strrep"] = func(g *governor) fnImpl {
		return fixed(2, 3, ret(TypeString), func(_ Type, v []Value) Value {
			n, ok := intArg(v, 1, 0)
			if !ok || n < 0 {
				return String("")
			}
			n = min(n, maxStrrep)
			s, sep := str(v, 0), str(v, 2)
			if n == 0 {
				return String("")
			}
			g.alloc("strrep function", n*int64(len(s))+(n-1)*int64(len(sep)))
			// n times s+sep without the last sep: one allocation, no copy
			out := strings.Repeat(s+sep, int(n))
			return String(out[:len(out)-len(sep)])
		})
	}
	governedFuncs["strcat"] = func(g *governor) fnImpl {
		return fixed(1, -1, ret(TypeString), func(_ Type, v []Value) Value {
			n := 0
			for i := range v {
				n += len(str(v, i))
			}
			g.alloc("strcat function", int64(n))
			var b strings.Builder
			b.Grow(n)
			for i := range v {
				b.WriteString(str(v, i))
			}
			return String(b.String())
		})
	}
	governedFuncs["strcat_delim"] = func(g *governor) fnImpl {
		return fixed(3, -1, ret(TypeString), func(_ Type, v []Value) Value {
			parts := make([]string, 0, len(v)-1)
			n := 0
			for i := 1; i < len(v); i++ {
				parts = append(parts, str(v, i))
				n += len(parts[len(parts)-1]) + len(str(v, 0))
			}
			g.alloc("strcat_delim function", int64(n))
			return String(strings.Join(parts, str(v, 0)))
		})
	}
	governedFuncs["strcat_array"] = func(g *governor) fnImpl {
		return fixed(2, 2, ret(TypeString), func(_ Type, v []Value) Value {
			arr, _ := v[0].d.([]any)
			parts := make([]string, len(arr))
			n := 0
			for i, e := range arr {
				parts[i] = stringOf(Dynamic(e))
				n += len(parts[i]) + len(str(v, 1))
				g.alloc("strcat_array function", int64(n))
			}
			return String(strings.Join(parts, str(v, 1)))
		})
	}
	governedFuncs["replace_string"] = func(g *governor) fnImpl {
		return fixed(3, 3, ret(TypeString), func(_ Type, v []Value) Value {
			s, old, repl := str(v, 0), str(v, 1), str(v, 2)
			if old == "" {
				return String(s)
			}
			if grow := len(repl) - len(old); grow > 0 {
				g.alloc("replace_string function", int64(len(s))+int64(strings.Count(s, old))*int64(grow))
			}
			return String(strings.ReplaceAll(s, old, repl))
		})
	}
	governedFuncs["array_concat"] = func(g *governor) fnImpl {
		return dynFn(1, -1, func(v []Value) Value {
			// arguments that are not arrays contribute nothing (t1-dynamic-json-0006)
			n := 0
			for i := range v {
				a, _ := arrArg(v, i)
				n += len(a)
			}
			g.alloc("array_concat function", 16*int64(n))
			out := make([]any, 0, n)
			for i := range v {
				a, _ := arrArg(v, i)
				out = append(out, a...)
			}
			return Dynamic(out)
		})
	}
	governedFuncs["repeat"] = func(g *governor) fnImpl {
		// the value must be a scalar: Kusto refuses a dynamic one
		// (agent-dynamic-json-0022)
		scalar := func(a []cexpr) (Type, bool) { return TypeDynamic, a[0].t != TypeDynamic && isIntegral(a[1].t) }
		return fixed(2, 2, scalar, func(_ Type, v []Value) Value {
			n, ok := intArg(v, 1, 0)
			if !ok {
				return Null(TypeDynamic)
			}
			if n <= 0 {
				return Dynamic([]any{})
			}
			g.alloc("repeat function", 16*n)
			x := dynAny(v[0])
			out := make([]any, n)
			for i := range out {
				out[i] = x
			}
			return Dynamic(out)
		})
	}
}
