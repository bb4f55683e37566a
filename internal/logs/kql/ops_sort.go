package kql

import (
	"regexp"
	"sort"
	"strings"
	"sync"
)

type sortKeyC struct {
	c          cexpr
	asc        bool
	nullsFirst bool
}

func compileSort(sc *scope, in *planTable, keys []SortKey) (*planTable, error) {
	var ks []sortKeyC
	for _, k := range keys {
		c, err := sc.compileExpr(k.X)
		if err != nil {
			return nil, err
		}
		ks = append(ks, sortKeyC{c: c, asc: k.Asc, nullsFirst: k.NullsFirst})
	}
	return blocking(in, in.cols, func(_ *qctx, rows []Row) ([]Row, error) {
		type keyed struct {
			r    Row
			vals []Value
		}
		items := make([]keyed, len(rows))
		for i, r := range rows {
			vals := make([]Value, len(ks))
			for j, k := range ks {
				vals[j] = k.c.f(r)
			}
			items[i] = keyed{r, vals}
		}
		sort.SliceStable(items, func(i, j int) bool {
			for k, key := range ks {
				c := sortCompare(items[i].vals[k], items[j].vals[k], key.asc, key.nullsFirst)
				if c != 0 {
					return c < 0
				}
			}
			return false
		})
		out := make([]Row, len(items))
		for i, it := range items {
			out[i] = it.r
		}
		return out, nil
	}), nil
}

// sortCompare orders two values for sort: nulls (and NaN) first or last,
// then by value in the requested direction.
func sortCompare(a, b Value, asc, nullsFirst bool) int {
	an, bn := isNullish(a), isNullish(b)
	switch {
	case an && bn:
		return 0
	case an:
		if nullsFirst {
			return -1
		}
		return 1
	case bn:
		if nullsFirst {
			return 1
		}
		return -1
	}
	c, ok := compareValues(a, b)
	if !ok {
		c = strings.Compare(a.Text(), b.Text())
	}
	if !asc {
		c = -c
	}
	return c
}

func isNullish(v Value) bool {
	if v.IsNull() {
		return true
	}
	v = scalarOf(v)
	return (v.T == TypeReal || v.T == TypeDecimal) && v.real() != v.real()
}

var regexCache sync.Map

// regexFor compiles a Kusto (RE2) regular expression, caching by pattern.
func regexFor(p string) (*regexp.Regexp, error) {
	if r, ok := regexCache.Load(p); ok {
		return r.(*regexp.Regexp), nil
	}
	r, err := regexp.Compile(dotnetRegex(p))
	if err != nil {
		return nil, err
	}
	regexCache.Store(p, r)
	return r, nil
}

// dotnetRegex rewrites the character classes whose meaning differs between
// .NET (Kusto's regex engine) and RE2: \d, \s and \w are Unicode-aware in
// .NET.
func dotnetRegex(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			i++
			var rep string
			switch n {
			case 'd':
				rep = `\p{Nd}`
			case 's':
				rep = `\s\x{85}\x{a0}\p{Z}`
			case 'w':
				rep = `\p{L}\p{Mn}\p{Nd}\p{Pc}`
			default:
				b.WriteByte(c)
				b.WriteByte(n)
				continue
			}
			if inClass || n == 'd' {
				b.WriteString(rep)
			} else {
				b.WriteString("[" + rep + "]")
			}
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// compiledRegex returns a per-row regex getter for a pattern expression.
func compiledRegex(c cexpr) func(Row) (*regexp.Regexp, error) {
	return func(r Row) (*regexp.Regexp, error) {
		v := c.f(r)
		if v.IsNull() {
			return nil, nil
		}
		return regexFor(toStr(v))
	}
}
