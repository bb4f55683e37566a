package kql

import "strings"

// joinKinds lists the join flavours and their aliases.
var joinKinds = map[string]string{
	"innerunique": "innerunique", "inner": "inner", "leftouter": "leftouter", "rightouter": "rightouter",
	"fullouter": "fullouter", "leftanti": "leftanti", "anti": "leftanti", "leftantisemi": "leftanti",
	"rightanti": "rightanti", "rightantisemi": "rightanti", "leftsemi": "leftsemi", "rightsemi": "rightsemi",
}

func compileJoin(q *qctx, e *env, left *planTable, o *Join) (*planTable, error) {
	kind := "innerunique"
	if o.Word == "lookup" {
		kind = "leftouter"
	}
	if k, ok := param(o.Params, "kind"); ok {
		kk, ok := joinKinds[k]
		if !ok || o.Word == "lookup" && kk != "leftouter" && kk != "inner" {
			return nil, errAt(o, "unknown %s kind '%s'", o.Word, k)
		}
		kind = kk
	}
	right, err := compileTabExpr(q, e, o.Right)
	if err != nil {
		return nil, err
	}
	var lk, rk []int
	for _, c := range o.On {
		l, r, err := joinKey(c, left.cols, right.cols)
		if err != nil {
			return nil, err
		}
		lk = append(lk, l)
		rk = append(rk, r)
	}
	// output columns
	var cols []Column
	var fromLeft, fromRight []int
	addLeft := kind != "rightsemi" && kind != "rightanti"
	addRight := kind != "leftsemi" && kind != "leftanti"
	if addLeft {
		for i, c := range left.cols {
			cols = append(cols, c)
			fromLeft = append(fromLeft, i)
		}
	}
	if addRight {
		skip := map[int]bool{}
		if o.Word == "lookup" {
			for k, r := range rk {
				if left.cols[lk[k]].Name == right.cols[r].Name {
					skip[r] = true
				}
			}
		}
		for i, c := range right.cols {
			if skip[i] {
				continue
			}
			cols = append(cols, Column{Name: uniqueName(cols, c.Name), Type: c.Type})
			fromRight = append(fromRight, i)
		}
	}
	nl := len(fromLeft)
	build := func(l, r Row) Row {
		out := make(Row, len(cols))
		for k, i := range fromLeft {
			if l != nil {
				out[k] = l[i]
			} else {
				out[k] = Null(cols[k].Type)
			}
		}
		for k, i := range fromRight {
			if r != nil {
				out[nl+k] = r[i]
			} else {
				out[nl+k] = Null(cols[nl+k].Type)
			}
		}
		return out
	}
	keyFor := func(r Row, idx []int) (string, bool) {
		vals := make([]Value, len(idx))
		// null keys match each other, as the conformance data shows
		for i, k := range idx {
			vals[i] = scalarOfKey(scalarOf(r[k]))
		}
		return keyOf(vals), true
	}
	return streamingOutput(left, cols, func(q *qctx, lrows []Row, yield func(Row) bool) error {
		rrows, err := runPlan(q, right)
		if err != nil {
			return err
		}
		if kind == "innerunique" {
			seen := map[string]bool{}
			var dedup []Row
			for _, r := range lrows {
				k, ok := keyFor(r, lk)
				if ok && seen[k] {
					continue
				}
				seen[k] = true
				dedup = append(dedup, r)
			}
			lrows = dedup
		}
		rindex := map[string][]int{}
		for i, r := range rrows {
			if k, ok := keyFor(r, rk); ok {
				rindex[k] = append(rindex[k], i)
			}
		}
		rmatched := make([]bool, len(rrows))
		for _, l := range lrows {
			k, ok := keyFor(l, lk)
			var matches []int
			if ok {
				matches = rindex[k]
			}
			switch kind {
			case "leftsemi":
				if len(matches) > 0 {
					if !yield(build(l, nil)) {
						return nil
					}
				}
				continue
			case "leftanti":
				if len(matches) == 0 {
					if !yield(build(l, nil)) {
						return nil
					}
				}
				continue
			}
			if o.Word == "lookup" && len(matches) > 1 {
				// lookup returns a key's right rows last-first
				// (agent-joins-lookup-union-0030)
				rev := make([]int, len(matches))
				for i, m := range matches {
					rev[len(matches)-1-i] = m
				}
				matches = rev
			}
			for _, m := range matches {
				rmatched[m] = true
				if kind != "rightsemi" && kind != "rightanti" {
					if !yield(build(l, rrows[m])) {
						return nil
					}
				}
			}
			if len(matches) == 0 && (kind == "leftouter" || kind == "fullouter") {
				if !yield(build(l, nil)) {
					return nil
				}
			}
		}
		switch kind {
		case "rightouter":
			// right outer keeps the inner matches and adds unmatched right rows
			for i, r := range rrows {
				if !rmatched[i] {
					if !yield(build(nil, r)) {
						return nil
					}
				}
			}
		case "fullouter":
			for i, r := range rrows {
				if !rmatched[i] {
					if !yield(build(nil, r)) {
						return nil
					}
				}
			}
		case "rightsemi", "rightanti":
			for i, r := range rrows {
				if rmatched[i] == (kind == "rightsemi") {
					if !yield(build(nil, r)) {
						return nil
					}
				}
			}
		}
		return nil
	}), nil
}

// joinKey resolves one on-condition to a left and a right column index.
func joinKey(c Expr, lc, rc []Column) (int, int, error) {
	switch n := c.(type) {
	case *Ident:
		l, r := colIndex(lc, n.Name), colIndex(rc, n.Name)
		if l < 0 || r < 0 {
			return 0, 0, errAt(n, "join key '%s' must exist on both sides", n.Name)
		}
		return l, r, nil
	case *Binary:
		if n.Op != "==" {
			break
		}
		side := func(x Expr) (string, string, bool) {
			m, ok := x.(*Member)
			if !ok {
				return "", "", false
			}
			id, ok := m.X.(*Ident)
			if !ok || (id.Name != "$left" && id.Name != "$right") {
				return "", "", false
			}
			return strings.TrimPrefix(id.Name, "$"), m.Name, true
		}
		s1, c1, ok1 := side(n.L)
		s2, c2, ok2 := side(n.R)
		if !ok1 || !ok2 || s1 == s2 {
			break
		}
		if s1 == "right" {
			c1, c2 = c2, c1
		}
		l, r := colIndex(lc, c1), colIndex(rc, c2)
		if l < 0 || r < 0 {
			return 0, 0, errAt(n, "unknown join column in %s", n.String())
		}
		return l, r, nil
	}
	return 0, 0, errAt(c, "join conditions must be column names or $left.a == $right.b")
}

func compileUnion(q *qctx, e *env, in *planTable, u *Union) (*planTable, error) {
	var legs []*planTable
	var names []string
	if in != nil {
		legs = append(legs, in)
		names = append(names, "union_arg0")
	}
	for _, x := range u.Legs {
		t, err := compileTabExpr(q, e, x)
		if err != nil {
			return nil, err
		}
		name := "union_arg" + itoa(len(legs))
		if id, ok := x.(*Ident); ok && e.lookup(id.Name) == nil {
			name = id.Name
		}
		legs = append(legs, t)
		names = append(names, name)
	}
	kind, _ := param(u.Params, "kind")
	withSource, _ := param(u.Params, "withsource")
	// column name -> types seen, in order
	type colInfo struct {
		name  string
		types []Type
	}
	var order []*colInfo
	byName := map[string]*colInfo{}
	count := map[string]int{}
	for _, l := range legs {
		for _, c := range l.cols {
			ci := byName[c.Name]
			if ci == nil {
				ci = &colInfo{name: c.Name}
				byName[c.Name] = ci
				order = append(order, ci)
			}
			count[c.Name]++
			found := false
			for _, t := range ci.types {
				if t == c.Type {
					found = true
				}
			}
			if !found {
				ci.types = append(ci.types, c.Type)
			}
		}
	}
	var cols []Column
	if withSource != "" {
		cols = append(cols, Column{Name: withSource, Type: TypeString})
	}
	type target struct {
		name string
		t    Type
	}
	pos := map[target]int{}
	for _, ci := range order {
		if kind == "inner" && count[ci.name] < len(legs) {
			continue
		}
		for _, t := range ci.types {
			name := ci.name
			if len(ci.types) > 1 {
				name = ci.name + "_" + t.String()
			}
			pos[target{ci.name, t}] = len(cols)
			cols = append(cols, Column{Name: uniqueName(cols, name), Type: t})
		}
	}
	maps := make([][]int, len(legs))
	for i, l := range legs {
		m := make([]int, len(l.cols))
		for j, c := range l.cols {
			p, ok := pos[target{c.Name, c.Type}]
			if !ok {
				p = -1
			}
			m[j] = p
		}
		maps[i] = m
	}
	return blocking(tableOf(nil, nil), cols, func(q *qctx, _ []Row) ([]Row, error) {
		var out []Row
		for i, l := range legs {
			rows, err := runPlan(q, l)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				o := make(Row, len(cols))
				for k, c := range cols {
					o[k] = Null(c.Type)
				}
				if withSource != "" {
					o[0] = String(names[i])
				}
				for j, p := range maps[i] {
					if p >= 0 {
						o[p] = r[j]
					}
				}
				out = q.keep(out, o, "union operator")
			}
		}
		return out, nil
	}), nil
}
