package kql

// Walk visits n and its descendants depth-first, calling f before the
// children; when f returns false the children of that node are skipped.
func Walk(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range children(n) {
		Walk(c, f)
	}
}

// children lists the direct sub-nodes of a node, in source order.
func children(n Node) []Node {
	var out []Node
	add := func(xs ...Node) {
		for _, x := range xs {
			if x != nil {
				out = append(out, x)
			}
		}
	}
	addExprs := func(xs []Expr) {
		for _, x := range xs {
			add(x)
		}
	}
	addAssigns := func(as []Assign) {
		for _, a := range as {
			add(a.X)
		}
	}
	switch x := n.(type) {
	case *Query:
		for _, l := range x.Lets {
			add(l)
		}
		add(x.Body)
		for _, b := range x.Batch {
			add(b)
		}
	case *Let:
		if x.Func != nil {
			add(x.Func)
		} else {
			add(x.Value)
		}
	case *FuncDef:
		for _, l := range x.Lets {
			add(l)
		}
		add(x.Result)
	case *Pipeline:
		add(x.Source)
		for _, o := range x.Ops {
			add(o)
		}
	case *ExprSource:
		add(x.X)
	case *Datatable:
		addExprs(x.Vals)
	case *Print:
		addAssigns(x.Items)
	case *Range:
		add(x.From, x.To, x.Step)
	case *Union:
		addExprs(x.Legs)
	case *Where:
		add(x.Pred)
	case *Project:
		addAssigns(x.Items)
	case *Extend:
		addAssigns(x.Items)
	case *Summarize:
		addAssigns(x.Aggs)
		addAssigns(x.By)
	case *Sort:
		for _, k := range x.Keys {
			add(k.X)
		}
	case *Top:
		add(x.N, x.Key.X)
	case *Take:
		add(x.N)
	case *Distinct:
		addExprs(x.Items)
	case *Join:
		add(x.Right)
		addExprs(x.On)
	case *MakeSeries:
		for _, a := range x.Aggs {
			add(a.X)
			if a.Default != nil {
				add(a.Default)
			}
		}
		add(x.On)
		if x.From != nil {
			add(x.From)
		}
		if x.To != nil {
			add(x.To)
		}
		add(x.Step)
		addAssigns(x.By)
	case *MvExpand:
		for _, it := range x.Items {
			add(it.X)
		}
		if x.Limit != nil {
			add(x.Limit)
		}
	case *ParseOp:
		add(x.X)
	case *ParseKV:
		add(x.X)
	case *MvApply:
		for _, it := range x.Items {
			add(it.X)
		}
		for _, o := range x.Ops {
			add(o)
		}
	case *TopNested:
		for _, l := range x.Levels {
			add(l.Of.X, l.By.X)
		}
	case *Fork:
		for _, l := range x.Legs {
			for _, o := range l.Ops {
				add(o)
			}
		}
	case *Facet:
		for _, o := range x.With {
			add(o)
		}
	case *Partition:
		for _, o := range x.Ops {
			add(o)
		}
		if x.Source != nil {
			add(x.Source)
		}
	case *Scan:
		for _, d := range x.Declare {
			if d.Default != nil {
				add(d.Default)
			}
		}
		for _, s := range x.Steps {
			add(s.Cond)
			addAssigns(s.Assigns)
		}
	case *Search:
		add(x.Pred)
	case *Serialize:
		addAssigns(x.Items)
	case *Unary:
		add(x.X)
	case *Binary:
		add(x.L, x.R)
	case *InExpr:
		add(x.X)
		addExprs(x.List)
	case *Between:
		add(x.X, x.Lo, x.Hi)
	case *Call:
		addExprs(x.Args)
	case *Member:
		add(x.X)
	case *Index:
		add(x.X, x.Idx)
	case *SubQuery:
		add(x.Q)
	}
	return out
}

// rewriteExpr rebuilds a scalar expression bottom-up, replacing each node
// with f's result. Subqueries are left as they are.
func rewriteExpr(e Expr, f func(Expr) Expr) Expr {
	switch x := e.(type) {
	case *Unary:
		c := *x
		c.X = rewriteExpr(x.X, f)
		return f(&c)
	case *Binary:
		c := *x
		c.L, c.R = rewriteExpr(x.L, f), rewriteExpr(x.R, f)
		return f(&c)
	case *InExpr:
		c := *x
		c.X = rewriteExpr(x.X, f)
		c.List = make([]Expr, len(x.List))
		for i, it := range x.List {
			c.List[i] = rewriteExpr(it, f)
		}
		return f(&c)
	case *Between:
		c := *x
		c.X, c.Lo, c.Hi = rewriteExpr(x.X, f), rewriteExpr(x.Lo, f), rewriteExpr(x.Hi, f)
		return f(&c)
	case *Call:
		if f(x) != Expr(x) {
			return f(x)
		}
		c := *x
		c.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			c.Args[i] = rewriteExpr(a, f)
		}
		return f(&c)
	case *Member:
		c := *x
		c.X = rewriteExpr(x.X, f)
		return f(&c)
	case *Index:
		c := *x
		c.X, c.Idx = rewriteExpr(x.X, f), rewriteExpr(x.Idx, f)
		return f(&c)
	}
	return f(e)
}
