package kql

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Column is a named, typed result or table column.
type Column struct {
	Name string
	Type Type
}

// Row is one row of values, in column order.
type Row []Value

// RowIter streams rows. Next returns io.EOF after the last row. Iterators are
// used by one goroutine; Close releases the underlying scan.
type RowIter interface {
	Next(ctx context.Context) (Row, error)
	Close() error
}

// Filter is one predicate a Source may apply during a scan: Column Op Values.
// Op is one of ==, !=, <, <=, >, >=, =~, !~, has, contains, startswith,
// endswith (with the _cs forms), in, !in and between (two values). Semantics
// are Kusto's, as the where operator evaluates them: a null column value
// matches only != and !in.
type Filter struct {
	Column string
	Op     string
	Values []Value
}

// String renders the filter as KQL.
func (f Filter) String() string {
	vals := make([]string, len(f.Values))
	for i, v := range f.Values {
		vals[i] = v.Text()
	}
	switch f.Op {
	case "in", "!in":
		return fmt.Sprintf("%s %s (%s)", quoteName(f.Column), f.Op, strings.Join(vals, ", "))
	case "between":
		return fmt.Sprintf("%s between (%s .. %s)", quoteName(f.Column), vals[0], vals[1])
	}
	return fmt.Sprintf("%s %s %s", quoteName(f.Column), f.Op, strings.Join(vals, ", "))
}

// ScanRequest is what the planner asks of a Source: the rows of Table that
// satisfy every filter in Filters, with only Columns (all when nil), at most
// Limit rows (no limit when zero). When Order is set (only for a Source
// that implements Orderer, and always with a Limit), the rows are the first
// Limit of the filtered table in that order, ties kept in scan order (the
// order the Source returns rows in without Order), and they come in that
// order.
//
// IngestionTime (set only for an IngestionTimeSource) asks for each row's
// ingestion time as one more value after the requested columns: a
// datetime, null for a record whose ingestion time is not known.
type ScanRequest struct {
	Table         string
	Columns       []string
	Filters       []Filter
	Limit         int64
	Order         []OrderKey
	IngestionTime bool
}

// OrderKey is one key of a pushed-down order, with the semantics of
// Kusto's sort: by Column, ascending or descending, nulls (and a real's
// NaN) first or last whichever the direction, values compared as the
// engine compares them (strings by their UTF-8 bytes).
type OrderKey struct {
	Column     string
	Asc        bool
	NullsFirst bool
}

// String renders the key as a KQL sort key.
func (k OrderKey) String() string {
	dir, nulls := "desc", "last"
	if k.Asc {
		dir = "asc"
	}
	if k.NullsFirst {
		nulls = "first"
	}
	return quoteName(k.Column) + " " + dir + " nulls " + nulls
}

// Source is a store of tables the planner scans. It is the pushdown seam:
// the planner hands a Source the filters, projection and limit it can apply
// itself, so that a store (SQLite, PostgreSQL) can answer with an indexed
// query instead of returning every row.
//
// The contract: Schema returns the table's columns in table order (an error
// wrapping ErrNoTable when there is no such table). Scan must apply every
// filter in the request exactly (the planner only pushes the filters for
// which CanFilter answered true and does not re-check them), return the
// requested columns in the requested order, and stop after Limit rows.
// Implementations must be safe for concurrent use by several queries. A
// Source that can also sort implements Orderer.
type Source interface {
	Schema(ctx context.Context, table string) ([]Column, error)
	CanFilter(table string, f Filter) bool
	Scan(ctx context.Context, req ScanRequest) (RowIter, error)
}

// Orderer is implemented by a Source that can also apply an order, so that
// "top N by c" and "sort by c | take N" read N rows instead of the whole
// table. The planner pushes an order (with its limit) only when every key
// is a column for which CanOrder answered true and every filter was pushed;
// it still runs its own sort over the rows returned, so a Source only
// decides which rows come back.
type Orderer interface {
	CanOrder(table string, key OrderKey) bool
}

// ErrNoTable is returned (wrapped) when a query names an unknown table.
var ErrNoTable = fmt.Errorf("no such table")

// MemTable is an in-memory table.
type MemTable struct {
	Columns []Column
	Rows    []Row
}

// MemSource is a Source over in-memory tables, used for tests, benchmarks
// and offline queries. It applies every filter the planner pushes.
type MemSource struct {
	Tables map[string]*MemTable
}

// Schema returns the table's columns.
func (m *MemSource) Schema(_ context.Context, table string) ([]Column, error) {
	t, ok := m.Tables[table]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoTable, table)
	}
	return t.Columns, nil
}

// CanFilter reports that every filter on a known column can be applied.
func (m *MemSource) CanFilter(table string, f Filter) bool {
	t, ok := m.Tables[table]
	return ok && colIndex(t.Columns, f.Column) >= 0
}

// CanOrder reports that every column of a known table can be ordered by.
func (m *MemSource) CanOrder(table string, k OrderKey) bool {
	t, ok := m.Tables[table]
	return ok && colIndex(t.Columns, k.Column) >= 0
}

// Scan streams the table's rows through the filters and projection; with
// an Order it sorts the filtered rows (stably, so ties keep table order)
// before it applies the limit.
func (m *MemSource) Scan(ctx context.Context, req ScanRequest) (RowIter, error) {
	if len(req.Order) > 0 {
		return m.scanOrdered(ctx, req)
	}
	t, ok := m.Tables[req.Table]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoTable, req.Table)
	}
	proj := make([]int, 0, len(t.Columns))
	if req.Columns == nil {
		for i := range t.Columns {
			proj = append(proj, i)
		}
	} else {
		for _, c := range req.Columns {
			i := colIndex(t.Columns, c)
			if i < 0 {
				return nil, fmt.Errorf("scan of %s: unknown column %s", req.Table, c)
			}
			proj = append(proj, i)
		}
	}
	preds := make([]func(Row) bool, len(req.Filters))
	for i, f := range req.Filters {
		ci := colIndex(t.Columns, f.Column)
		if ci < 0 {
			return nil, fmt.Errorf("scan of %s: unknown column %s", req.Table, f.Column)
		}
		p, err := filterFunc(f)
		if err != nil {
			return nil, err
		}
		preds[i] = func(r Row) bool { return p(r[ci]) }
	}
	identity := req.Columns == nil
	return &memIter{rows: t.Rows, preds: preds, proj: proj, identity: identity, limit: req.Limit}, nil
}

// scanOrdered answers a request with an Order: every matching row, sorted
// by the keys with the sort operator's comparison, then limit and
// projection.
func (m *MemSource) scanOrdered(ctx context.Context, req ScanRequest) (RowIter, error) {
	t := m.Tables[req.Table]
	keys := make([]int, len(req.Order))
	for i, k := range req.Order {
		if keys[i] = colIndex(t.Columns, k.Column); keys[i] < 0 {
			return nil, fmt.Errorf("scan of %s: unknown column %s", req.Table, k.Column)
		}
	}
	all := req
	all.Columns, all.Limit, all.Order = nil, 0, nil
	it, err := m.Scan(ctx, all)
	if err != nil {
		return nil, err
	}
	rows, err := drain(ctx, it)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for n, k := range req.Order {
			if c := sortCompare(rows[i][keys[n]], rows[j][keys[n]], k.Asc, k.NullsFirst); c != 0 {
				return c < 0
			}
		}
		return false
	})
	if req.Limit > 0 && int64(len(rows)) > req.Limit {
		rows = rows[:req.Limit]
	}
	proj := &MemSource{Tables: map[string]*MemTable{req.Table: {Columns: t.Columns, Rows: rows}}}
	return proj.Scan(ctx, ScanRequest{Table: req.Table, Columns: req.Columns})
}

type memIter struct {
	rows     []Row
	i        int
	preds    []func(Row) bool
	proj     []int
	identity bool
	limit    int64
	n        int64
}

func (it *memIter) Next(ctx context.Context) (Row, error) {
	for it.i < len(it.rows) {
		if it.limit > 0 && it.n >= it.limit {
			return nil, io.EOF
		}
		r := it.rows[it.i]
		it.i++
		if it.i&0xFFF == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		keep := true
		for _, p := range it.preds {
			if !p(r) {
				keep = false
				break
			}
		}
		if !keep {
			continue
		}
		it.n++
		if it.identity {
			return r, nil
		}
		out := make(Row, len(it.proj))
		for j, k := range it.proj {
			out[j] = r[k]
		}
		return out, nil
	}
	return nil, io.EOF
}

func (it *memIter) Close() error { return nil }

// filterFunc compiles a pushed-down filter for sources that evaluate
// filters in Go (MemSource).
func filterFunc(f Filter) (func(Value) bool, error) {
	switch f.Op {
	case "in", "!in":
		neg := f.Op == "!in"
		return func(v Value) bool {
			if v.IsNull() {
				// as the where operator evaluates it (compileIn): a null
				// is in no list, so !in holds, as != does against null
				return neg && v.T != TypeString
			}
			for _, w := range f.Values {
				if b, ok := valuesEqual(v, w); ok && b {
					return !neg
				}
			}
			return neg
		}, nil
	case "between":
		if len(f.Values) != 2 {
			return nil, fmt.Errorf("between filter needs two values")
		}
		return func(v Value) bool {
			a, ok1 := compareValues(v, f.Values[0])
			b, ok2 := compareValues(v, f.Values[1])
			return ok1 && ok2 && a >= 0 && b <= 0
		}, nil
	}
	if len(f.Values) != 1 {
		return nil, fmt.Errorf("filter %s needs one value", f.Op)
	}
	op, ok := binaryOps[f.Op]
	if !ok {
		return nil, fmt.Errorf("filter operator %s is not supported", f.Op)
	}
	w := f.Values[0]
	return func(v Value) bool { r := op(v, w); return r.ok && r.i != 0 }, nil
}

func colIndex(cols []Column, name string) int {
	for i, c := range cols {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// sliceIter streams rows from a slice.
type sliceIter struct {
	rows []Row
	i    int
}

func (it *sliceIter) Next(context.Context) (Row, error) {
	if it.i >= len(it.rows) {
		return nil, io.EOF
	}
	it.i++
	return it.rows[it.i-1], nil
}

func (it *sliceIter) Close() error { return nil }

// drain reads an iterator to the end.
func drain(ctx context.Context, it RowIter) ([]Row, error) {
	defer it.Close()
	var out []Row
	for {
		r, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
}
