package kql

import (
	"context"
	"regexp"
	"strings"
)

func compileMvExpand(sc *scope, in *planTable, o *MvExpand) (*planTable, error) {
	cols := append([]Column(nil), in.cols...)
	kind, _ := param(o.Params, "kind")
	if kind == "" {
		kind, _ = param(o.Params, "bagexpansion")
	}
	cols, items, _, err := compileMvItems(sc, cols, o.Items, "mv-expand")
	if err != nil {
		return nil, err
	}
	idxCol := -1
	if name, ok := param(o.Params, "with_itemindex"); ok {
		cols = append(cols, Column{Name: name, Type: TypeLong})
		idxCol = len(cols) - 1
	}
	limit := int64(-1)
	if o.Limit != nil {
		c, err := sc.compileExpr(o.Limit)
		if err != nil {
			return nil, err
		}
		v, err := constValue(c, o.Limit, "mv-expand's limit")
		if err != nil {
			return nil, err
		}
		limit = v.i
	}
	ncols := len(cols)
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		it, err := in.open(q)
		if err != nil {
			return nil, err
		}
		var pending []Row
		return &funcIter{next: func(ctx2 context.Context) (Row, error) {
			for len(pending) == 0 {
				r, err := it.Next(ctx2)
				if err != nil {
					return nil, err
				}
				lists := make([][]any, len(items))
				n := 0
				for i, itm := range items {
					lists[i] = expandList(itm.c.f(r), kind)
					if len(lists[i]) > n {
						n = len(lists[i])
					}
				}
				if limit >= 0 && int64(n) > limit {
					n = int(limit)
				}
				for k := 0; k < n; k++ {
					out := make(Row, ncols)
					copy(out, r)
					for i, itm := range items {
						var v Value
						if k < len(lists[i]) {
							v = Dynamic(lists[i][k])
						} else {
							v = Null(TypeDynamic)
						}
						if itm.conv != nil {
							v = itm.conv(v)
						}
						out[itm.pos] = v
					}
					if idxCol >= 0 {
						out[idxCol] = Long(int64(k))
					}
					pending = append(pending, out)
				}
			}
			r := pending[0]
			pending = pending[1:]
			return r, nil
		}, close: it.Close}, nil
	}}, nil
}

// mvItem is a compiled mv-expand or mv-apply item: the expression, the
// column it fills and the conversion of "to typeof(T)".
type mvItem struct {
	c    cexpr
	pos  int
	conv func(Value) Value
}

// compileMvItems compiles mv-expand/mv-apply items, appending a column for
// each new name and retyping existing ones. It returns the columns, the
// items and their names.
func compileMvItems(sc *scope, cols []Column, its []MvItem, op string) ([]Column, []mvItem, []string, error) {
	var items []mvItem
	var names []string
	for _, it := range its {
		c, err := sc.compileExpr(it.X)
		if err != nil {
			return nil, nil, nil, err
		}
		name := it.Name
		if name == "" {
			name = derivedName(it.X)
		}
		if name == "" {
			return nil, nil, nil, errAt(it.X, "%s needs a column or a name = expression", op)
		}
		if c.t != TypeDynamic {
			return nil, nil, nil, errAt(it.X, "%s needs a dynamic value, not %s", op, c.t)
		}
		t := TypeDynamic
		var conv func(Value) Value
		if it.To != "" {
			t = typeByName[strings.ToLower(it.To)]
			conv = converter(t)
		}
		pos := colIndex(cols, name)
		if pos < 0 {
			cols = append(cols, Column{Name: name, Type: t})
			pos = len(cols) - 1
		} else {
			cols[pos].Type = t
		}
		items = append(items, mvItem{c: c, pos: pos, conv: conv})
		names = append(names, name)
	}
	return cols, items, names, nil
}

// expandList returns the elements mv-expand produces from a value: array
// elements, one single-key bag (or [key, value] with kind=array) per
// property, or the scalar itself.
func expandList(v Value, kind string) []any {
	if v.T != TypeDynamic {
		if v.IsNull() {
			return []any{nil}
		}
		return []any{dynAny(v)}
	}
	switch d := v.d.(type) {
	case []any:
		return d
	case *Bag:
		out := make([]any, 0, len(d.Keys))
		for _, k := range d.Keys {
			if kind == "array" {
				out = append(out, []any{k, d.M[k]})
			} else {
				b := NewBag()
				b.Set(k, d.M[k])
				out = append(out, b)
			}
		}
		return out
	case nil:
		return []any{nil}
	}
	return []any{v.d}
}

func compileParse(sc *scope, in *planTable, o *ParseOp) (*planTable, error) {
	src, err := sc.compileExpr(o.X)
	if err != nil {
		return nil, err
	}
	kind, _ := param(o.Params, "kind")
	flags, _ := param(o.Params, "flags")
	cols := append([]Column(nil), in.cols...)
	var re strings.Builder
	re.WriteString("(?s)")
	if strings.Contains(flags, "i") {
		re.WriteString("(?i)")
	}
	if kind != "regex" {
		re.WriteString("^")
	}
	type capture struct {
		pos  int
		conv func(Value) Value
	}
	var caps []capture
	lastCol := -1
	for i, p := range o.Pattern {
		if p.Col != "" {
			// two captures need a literal between them
			// (agent-parse-search-0033#2)
			if i > 0 && o.Pattern[i-1].Col != "" {
				return nil, errAt(o, "parse columns %s and %s need a string between them", o.Pattern[i-1].Col, p.Col)
			}
			lastCol = i
		}
	}
	for i, p := range o.Pattern {
		switch {
		case p.Lit != nil:
			if kind == "regex" {
				re.WriteString(p.Lit.Val.s)
			} else {
				re.WriteString(regexp.QuoteMeta(p.Lit.Val.s))
			}
		case p.Star:
			re.WriteString("(?:.*?)")
		default:
			t := TypeString
			if p.Type != "" {
				t = typeByName[strings.ToLower(p.Type)]
			}
			greedy := i == lastCol && i == len(o.Pattern)-1
			switch {
			case kind == "regex" && (t == TypeLong || t == TypeInt):
				re.WriteString(`(-?\d+)`)
			case kind == "regex" && t == TypeReal:
				re.WriteString(`(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)`)
			case kind == "regex":
				// regex-mode captures are greedy (parse-search-0010)
				re.WriteString("(.*)")
			case greedy:
				re.WriteString("(.*)")
			default:
				re.WriteString("(.*?)")
			}
			pos := colIndex(cols, p.Col)
			if pos < 0 {
				cols = append(cols, Column{Name: p.Col, Type: t})
				pos = len(cols) - 1
			} else {
				cols[pos].Type = t
			}
			caps = append(caps, capture{pos: pos, conv: converter(t)})
		}
	}
	if kind != "regex" && len(o.Pattern) > 0 && o.Pattern[len(o.Pattern)-1].Lit != nil {
		re.WriteString("")
	}
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return nil, errAt(o, "bad parse pattern: %v", err)
	}
	where := o.Word == "parse-where"
	ncols := len(cols)
	sf := src.f
	return streamMap(in, cols, func(r Row) (Row, bool) {
		out := make(Row, ncols)
		copy(out, r)
		m := rx.FindStringSubmatch(toStr(sf(r)))
		for i, c := range caps {
			if m == nil {
				out[c.pos] = c.conv(Null(TypeString))
				if cols[c.pos].Type == TypeString {
					out[c.pos] = String("")
				}
				continue
			}
			v := c.conv(String(m[i+1]))
			out[c.pos] = v
		}
		if where && m == nil {
			return nil, false
		}
		return out, true
	}), nil
}

func compileRawOp(sc *scope, in *planTable, o *RawOp) (*planTable, error) {
	switch o.Name {
	case "evaluate":
		return compileEvaluate(sc, in, o)
	case "sample":
		return compileSample(sc, in, o)
	case "invoke":
		return compileInvoke(sc, in, o)
	case "consume":
		return compileConsume(in, o)
	case "top-hitters":
		return compileTopHitters(sc, in, o)
	case "reduce":
		return compileReduce(sc, in, o)
	}
	return nil, errAt(o, "operator '%s' is not supported", o.Name)
}
