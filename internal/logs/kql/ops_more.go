package kql

import "strings"

func compileParseKV(sc *scope, in *planTable, o *ParseKV) (*planTable, error) {
	src, err := sc.compileExpr(o.X)
	if err != nil {
		return nil, err
	}
	pairDelim, kvDelim, quote := " ", "=", ""
	for _, w := range o.With {
		l, ok := w.X.(*Lit)
		if !ok || l.Val.T != TypeString {
			return nil, errAt(w.X, "parse-kv options must be string literals")
		}
		switch w.Name {
		case "pair_delimiter":
			pairDelim = l.Val.s
		case "kv_delimiter":
			kvDelim = l.Val.s
		case "quote":
			quote = l.Val.s
		case "escape", "greedy":
		default:
			return nil, errAt(w.X, "unknown parse-kv option %s", w.Name)
		}
	}
	if pairDelim == "" || kvDelim == "" {
		return nil, errAt(o, "parse-kv delimiters must not be empty")
	}
	cols := append([]Column(nil), in.cols...)
	type target struct {
		pos  int
		conv func(Value) Value
	}
	want := map[string]target{}
	for _, c := range o.Cols {
		t := typeByName[strings.ToLower(c.Type)]
		pos := colIndex(cols, c.Name)
		if pos < 0 {
			cols = append(cols, Column{Name: c.Name, Type: t})
			pos = len(cols) - 1
		} else {
			cols[pos].Type = t
		}
		want[c.Name] = target{pos: pos, conv: converter(t)}
	}
	n := len(cols)
	sf := src.f
	return streamMap(in, cols, func(r Row) (Row, bool) {
		out := make(Row, n)
		copy(out, r)
		for _, t := range want {
			out[t.pos] = t.conv(Null(TypeString))
			if cols[t.pos].Type != TypeString {
				out[t.pos] = Null(cols[t.pos].Type)
			}
		}
		seen := map[string]bool{}
		for _, pair := range splitQuoted(toStr(sf(r)), pairDelim, quote) {
			k, v, ok := strings.Cut(pair, kvDelim)
			if !ok {
				continue
			}
			k = strings.TrimSpace(k)
			t, ok := want[k]
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			v = strings.TrimSpace(v)
			if quote != "" && len(v) >= 2 && strings.Contains(quote, v[:1]) && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			out[t.pos] = t.conv(String(v))
		}
		return out, true
	}), nil
}

// splitQuoted splits s on delim, ignoring delimiters inside quotes.
func splitQuoted(s, delim, quotes string) []string {
	if quotes == "" {
		return strings.Split(s, delim)
	}
	var out []string
	start := 0
	var inQuote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case strings.IndexByte(quotes, c) >= 0:
			inQuote = c
		case strings.HasPrefix(s[i:], delim):
			out = append(out, s[start:i])
			i += len(delim) - 1
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func compileMvApply(q *qctx, e *env, in *planTable, o *MvApply) (*planTable, error) {
	sc := &scope{cols: in.cols, env: e, q: q}
	innerCols := append([]Column(nil), in.cols...)
	innerCols, items, names, err := compileMvItems(sc, innerCols, o.Items, "mv-apply")
	if err != nil {
		return nil, err
	}
	itemNames := map[string]bool{}
	for _, n := range names {
		itemNames[n] = true
	}
	var cur []Row
	sub := &planTable{cols: innerCols, open: func(*qctx) (RowIter, error) { return &sliceIter{rows: cur}, nil }}
	for _, op := range o.Ops {
		if sub, err = compileOp(q, e, sub, op); err != nil {
			return nil, err
		}
	}
	// outer columns the subquery does not return come first
	var keep []int
	var cols []Column
	for i, c := range in.cols {
		if !itemNames[c.Name] && colIndex(sub.cols, c.Name) < 0 {
			keep = append(keep, i)
			cols = append(cols, c)
		}
	}
	nk := len(keep)
	for _, c := range sub.cols {
		cols = append(cols, Column{Name: uniqueName(cols, c.Name), Type: c.Type})
	}
	plan := sub
	width := len(innerCols)
	return blocking(in, cols, func(q *qctx, rows []Row) ([]Row, error) {
		var out []Row
		for _, r := range rows {
			lists := make([][]any, len(items))
			n := 0
			for i, it := range items {
				lists[i] = expandList(it.c.f(r), "")
				n = max(n, len(lists[i]))
			}
			cur = cur[:0]
			for k := 0; k < n; k++ {
				x := make(Row, width)
				copy(x, r)
				for i, it := range items {
					v := Null(TypeDynamic)
					if k < len(lists[i]) {
						v = Dynamic(lists[i][k])
					}
					if it.conv != nil {
						v = it.conv(v)
					}
					x[it.pos] = v
				}
				cur = append(cur, x)
			}
			res, err := runPlan(q, plan)
			if err != nil {
				return nil, err
			}
			for _, s := range res {
				o := make(Row, 0, len(cols))
				for _, i := range keep {
					o = append(o, r[i])
				}
				o = append(o, s...)
				out = append(out, o[:nk+len(s)])
			}
		}
		return out, nil
	}), nil
}
