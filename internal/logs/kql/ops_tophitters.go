package kql

// compileTopHitters plans "top-hitters N of ValueExpression [by
// SummingExpression]". Kusto approximates (count-min sketch) and documents
// the result as that of "summarize count() by Value | top N by count
// desc" (or sum(SummingExpression)); Steward computes it exactly. The
// count column is approximate_count_<Value>, the sum column
// approximate_sum_<SummingExpression>, as the documented outputs name them.
func compileTopHitters(sc *scope, in *planTable, o *RawOp) (*planTable, error) {
	toks, err := lexRawOp(o)
	if err != nil {
		return nil, errAt(o, "top-hitters: %v", err)
	}
	p := &parser{src: o.Text, toks: toks}
	var n Expr
	var of, by Assign
	hasBy := false
	perr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = errAt(o, "top-hitters needs: top-hitters N of Expression [by SummingExpression]")
			}
		}()
		n = p.parseAdditive()
		p.expectWord("of")
		of = p.parseAssign()
		if p.acceptWord("by") {
			hasBy = true
			by = p.parseAssign()
		}
		if p.peek().kind != tEOF {
			panic("trailing")
		}
		return nil
	}()
	if perr != nil {
		return nil, perr
	}
	if of.Name == "" {
		of.Name = derivedName(of.X)
	}
	key := of.Name
	if key == "" {
		key = "Column1"
		of.Name = key
	}
	agg := Assign{Name: "approximate_count_" + key, X: &Call{At: o.At, Name: "count"}}
	if hasBy {
		name := by.Name
		if name == "" {
			name = derivedName(by.X)
		}
		if name == "" {
			name = key
		}
		agg = Assign{Name: "approximate_sum_" + name, X: &Call{At: o.At, Name: "sum", Args: []Expr{by.X}}}
	}
	t, err := compileSummarize(sc, in, &Summarize{At: o.At, Aggs: []Assign{agg}, By: []Assign{of}})
	if err != nil {
		return nil, err
	}
	tsc := &scope{cols: t.cols, env: sc.env, q: sc.q}
	if t, err = compileSort(tsc, t, []SortKey{{X: &Ident{At: o.At, Name: agg.Name}}}); err != nil {
		return nil, err
	}
	return compileTake(tsc, t, n)
}

// lexRawOp lexes the text of an operator the parser kept as text, with
// lines and columns in the whole query, so errors point where the query
// has them. Offsets stay relative to the text: the parser slices the text
// by them (type names).
func lexRawOp(o *RawOp) ([]token, error) {
	toks, err := lex(o.Text)
	if err != nil || o.TextAt.Line == 0 {
		return toks, err
	}
	for i := range toks {
		p := &toks[i].pos
		if p.Line == 1 {
			p.Col += o.TextAt.Col - 1
		}
		p.Line += o.TextAt.Line - 1
	}
	return toks, nil
}
