package kql

import (
	"path"
	"strings"
)

func compileProject(sc *scope, in *planTable, o *Project) (*planTable, error) {
	switch o.Word {
	case "project-away", "project-keep":
		keep := o.Word == "project-keep"
		var idx []int
		var cols []Column
		for i, c := range in.cols {
			m, err := matchesAny(o.Items, c.Name, in.cols)
			if err != nil {
				return nil, err
			}
			if m == keep {
				idx = append(idx, i)
				cols = append(cols, c)
			}
		}
		for _, it := range o.Items {
			name := it.X.(*Ident).Name
			if !strings.Contains(name, "*") && colIndex(in.cols, name) < 0 {
				return nil, unknownColumn(it.X, name)
			}
		}
		return remap(in, cols, idx), nil
	case "project-rename":
		cols := append([]Column(nil), in.cols...)
		for _, it := range o.Items {
			id, ok := it.X.(*Ident)
			if !ok || it.Name == "" {
				return nil, errAt(it.X, "project-rename needs new = old")
			}
			i := colIndex(in.cols, id.Name)
			if i < 0 {
				return nil, unknownColumn(id, id.Name)
			}
			cols[i].Name = it.Name
		}
		if err := checkUnique(o, cols); err != nil {
			return nil, err
		}
		idx := make([]int, len(cols))
		for i := range idx {
			idx[i] = i
		}
		return remap(in, cols, idx), nil
	case "project-reorder":
		var idx []int
		used := map[int]bool{}
		for _, it := range o.Items {
			name := it.X.(*Ident).Name
			found := false
			for i, c := range in.cols {
				if !used[i] && wildMatch(name, c.Name) {
					idx = append(idx, i)
					used[i] = true
					found = true
				}
			}
			if !found && !strings.Contains(name, "*") {
				return nil, unknownColumn(it.X, name)
			}
		}
		for i := range in.cols {
			if !used[i] {
				idx = append(idx, i)
			}
		}
		cols := make([]Column, len(idx))
		for k, i := range idx {
			cols[k] = in.cols[i]
		}
		return remap(in, cols, idx), nil
	}
	items, err := expandMulti(o.Items, true)
	if err != nil {
		return nil, err
	}
	namer := columnNamer{}
	var win *winCtx
	if usesWindow(items) {
		if !in.ordered {
			return nil, errAt(o, "window functions need serialized rows (add sort, serialize or top)")
		}
		win = &winCtx{}
		sc = &scope{cols: sc.cols, env: sc.env, q: sc.q, win: win, ingest: sc.ingest}
	}
	cols, exprs, err := compileItems(sc, o, items, func(int) string { return namer.next() })
	if err != nil {
		return nil, err
	}
	// rows carrying the hidden ingestion time keep it after the new columns
	nin, carry := len(in.cols), in.ingest == ingestCarried
	width := len(exprs)
	if carry {
		width++
	}
	row := func(r Row) Row {
		out := make(Row, width)
		for i, c := range exprs {
			out[i] = withType(c.f(r), cols[i].Type)
		}
		if carry {
			out[len(exprs)] = r[nin]
		}
		return out
	}
	if win != nil {
		return windowed(in, cols, nin+boolInt(carry), win, row, true, nil), nil
	}
	return streamMap(in, cols, func(r Row) (Row, bool) { return row(r), true }), nil
}

// compileItems compiles the items of project or print into distinct
// columns; unnamed items that are not a column or property get fallback(i).
func compileItems(sc *scope, at Node, items []Assign, fallback func(i int) string) ([]Column, []cexpr, error) {
	var cols []Column
	var exprs []cexpr
	for i, it := range items {
		c, err := sc.compileExpr(it.X)
		if err != nil {
			return nil, nil, err
		}
		name := it.Name
		if name == "" {
			name = derivedName(it.X)
		}
		if name == "" {
			name = fallback(i)
		}
		cols = append(cols, Column{Name: name, Type: concreteType(c.t)})
		exprs = append(exprs, c)
	}
	if err := checkUnique(at, cols); err != nil {
		return nil, nil, err
	}
	return cols, exprs, nil
}

func matchesAny(items []Assign, name string, _ []Column) (bool, error) {
	for _, it := range items {
		id, ok := it.X.(*Ident)
		if !ok {
			return false, errAt(it.X, "expected a column name")
		}
		if wildMatch(id.Name, name) {
			return true, nil
		}
	}
	return false, nil
}

func wildMatch(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// remap projects columns by index; rows carrying the hidden ingestion
// time keep it after the columns.
func remap(in *planTable, cols []Column, idx []int) *planTable {
	nin, carry := len(in.cols), in.ingest == ingestCarried
	width := len(idx)
	if carry {
		width++
	}
	return streamMap(in, cols, func(r Row) (Row, bool) {
		out := make(Row, width)
		for k, i := range idx {
			out[k] = r[i]
		}
		if carry {
			out[len(idx)] = r[nin]
		}
		return out, true
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func compileExtend(sc *scope, in *planTable, items []Assign, at Node) (*planTable, error) {
	items, err := expandMulti(items, false)
	if err != nil {
		return nil, err
	}
	cols := append([]Column(nil), in.cols...)
	type slot struct {
		pos int
		c   cexpr
	}
	var slots []slot
	namer := columnNamer{taken: func(n string) bool { return colIndex(cols, n) >= 0 }}
	cur := &scope{cols: in.cols, env: sc.env, q: sc.q, ingest: sc.ingest}
	var win *winCtx
	if usesWindow(items) {
		if !in.ordered {
			return nil, errAt(at, "window functions need serialized rows (add sort, serialize or top)")
		}
		win = &winCtx{}
		cur.win = win
	}
	for _, it := range items {
		// every item reads the input row: a column an earlier item of the
		// same extend adds is not visible (see decisions/kql.md)
		c, err := cur.compileExpr(it.X)
		if err != nil {
			for _, col := range cols[len(in.cols):] {
				if strings.Contains(err.Error(), "unknown name '"+col.Name+"'") {
					return nil, errAt(it.X, "unknown name '%s': a column added by the same extend is not visible to its other items (use a second extend)", col.Name)
				}
			}
			return nil, err
		}
		name := it.Name
		if name == "" {
			name = derivedName(it.X)
			if name == "" || colIndex(cols, name) >= 0 && !isColumnRef(it.X) {
				name = namer.next()
			}
		}
		t := concreteType(c.t)
		if i := colIndex(cols, name); i >= 0 {
			cols[i].Type = t
			slots = append(slots, slot{i, c})
		} else {
			cols = append(cols, Column{Name: name, Type: t})
			slots = append(slots, slot{len(cols) - 1, c})
		}
	}
	n := len(cols)
	nin := len(in.cols)
	// rows carrying the hidden ingestion time keep it after the new
	// columns (at n); it is copied in with the input row, then moved
	carry := in.ingest == ingestCarried
	width := n + boolInt(carry)
	row := func(r Row) Row {
		// items read only input columns; a replaced input column keeps
		// its input value until every item is computed ("extend a = c,
		// c = a" swaps, nested-pipelines-let-cte-0021#3)
		out := make(Row, width)
		copy(out, r)
		// the items read the input row: out's first nin values are the
		// same until the replaced columns are written last, and with the
		// hidden ingestion time out[nin] may already hold a new column
		read := out
		if carry {
			out[n] = r[nin]
			read = r
		}
		var late []Value
		for _, s := range slots {
			v := withType(s.c.f(read), cols[s.pos].Type)
			if s.pos < nin {
				late = append(late, v)
				continue
			}
			out[s.pos] = v
		}
		k := 0
		for _, s := range slots {
			if s.pos < nin {
				out[s.pos] = late[k]
				k++
			}
		}
		return out
	}
	if win != nil {
		// prev() and next() read the finished rows with the input's
		// columns: with the hidden ingestion time, it is moved back to
		// where the input has it
		var asInput func(Row) Row
		if carry {
			asInput = func(o Row) Row {
				v := make(Row, nin+1)
				copy(v, o[:nin])
				v[nin] = o[n]
				return v
			}
		}
		return windowed(in, cols, max(n, nin+boolInt(carry)), win, row, false, asInput), nil
	}
	return streamMap(in, cols, func(r Row) (Row, bool) { return row(r), true }), nil
}

func isColumnRef(x Expr) bool { _, ok := x.(*Ident); return ok }
