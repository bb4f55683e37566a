package kql

import "strings"

// searchTermFn is the internal function a search predicate's bare terms and
// col:"term" parts are rewritten to.
const searchTermFn = "__search_term"

// compileSearch plans the search operator: it adds a $table column and keeps
// the rows the predicate selects.
func compileSearch(sc *scope, in *planTable, o *Search) (*planTable, error) {
	cs := false
	if k, ok := param(o.Params, "kind"); ok {
		switch k {
		case "case_sensitive":
			cs = true
		case "case_insensitive", "default":
		default:
			return nil, errAt(o, "unknown search kind '%s'", k)
		}
	}
	pred := searchRewrite(o.Pred, cs, true)
	c, err := sc.compileExpr(pred)
	if err != nil {
		return nil, err
	}
	cols := append([]Column{{Name: "$table", Type: TypeString}}, in.cols...)
	f := c.f
	table := String("search_arg0")
	return streamMap(in, cols, func(r Row) (Row, bool) {
		v := scalarOf(f(r))
		if !(v.ok && v.T == TypeBool && v.i != 0) {
			return nil, false
		}
		out := make(Row, 0, len(r)+1)
		out = append(out, table)
		return append(out, r...), true
	}), nil
}

// searchRewrite turns the string literals in boolean positions of a search
// predicate, and col:"term" parts, into term-match calls.
func searchRewrite(e Expr, cs bool, boolPos bool) Expr {
	csLit := &Lit{Text: "false", Val: Bool(cs)}
	if cs {
		csLit.Text = "true"
	}
	switch x := e.(type) {
	case *Lit:
		if boolPos && x.Val.T == TypeString {
			return &Call{At: x.At, Name: searchTermFn, Args: []Expr{x, csLit}}
		}
	case *Binary:
		switch x.Op {
		case "and", "or":
			c := *x
			c.L, c.R = searchRewrite(x.L, cs, true), searchRewrite(x.R, cs, true)
			return &c
		case ":":
			return &Call{At: x.At, Name: searchTermFn, Args: []Expr{x.R, csLit, x.L}}
		}
	case *Call:
		if x.Name == "not" && len(x.Args) == 1 {
			c := *x
			c.Args = []Expr{searchRewrite(x.Args[0], cs, true)}
			return &c
		}
	}
	return e
}

// compileSearchTerm matches a term against every column (or one column).
// A term with * matches term prefixes (t*), suffixes (*t) or substrings
// (*t*); a plain term matches like has.
func (s *scope) compileSearchTerm(x *Call) (cexpr, error) {
	lit, ok := x.Args[0].(*Lit)
	if !ok || lit.Val.T != TypeString {
		return cexpr{}, errAt(x, "search terms must be string literals")
	}
	cs := x.Args[1].(*Lit).Val.AsBool()
	term := lit.Val.s
	if !cs {
		term = strings.ToLower(term)
	}
	idx := make([]int, 0, len(s.cols))
	if len(x.Args) == 3 {
		id, ok := x.Args[2].(*Ident)
		if !ok || s.col(id.Name) < 0 {
			return cexpr{}, errAt(x.Args[2], "unknown column in search")
		}
		idx = append(idx, s.col(id.Name))
	} else {
		for i := range s.cols {
			idx = append(idx, i)
		}
	}
	match := termMatcher(term)
	return cexpr{t: TypeBool, f: func(r Row) Value {
		for _, i := range idx {
			v := toStr(r[i])
			if !cs {
				v = strings.ToLower(v)
			}
			if match(v) {
				return Bool(true)
			}
		}
		return Bool(false)
	}}, nil
}

func termMatcher(term string) func(string) bool {
	pre, suf := strings.HasPrefix(term, "*"), strings.HasSuffix(term, "*")
	core := strings.Trim(term, "*")
	switch {
	case pre && suf:
		return func(s string) bool { return strings.Contains(s, core) }
	case suf:
		return func(s string) bool { return hasPrefixTerm(s, core) }
	case pre:
		return func(s string) bool { return hasSuffixTerm(s, core) }
	}
	return func(s string) bool { return hasTerm(s, core) }
}
