package logs

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// Window bounds the TimeGenerated of the rows a query sees, as the query
// API's timespan does; a zero bound is open.
type Window struct {
	// From and To are kql datetime ticks; To is inclusive.
	From, To int64
}

// Source is the kql.Source over one workspace's tables: scans become SQL
// SELECTs with the pushed-down filters in the WHERE clause, the projection
// in the column list and the limit as LIMIT, so that rows the query does
// not need never leave the database.
type Source struct {
	rows      *Rows
	workspace string
	window    Window
}

// Source returns the kql.Source over a workspace's tables, restricted to
// the rows inside w.
func (r *Rows) Source(workspace string, w Window) *Source {
	return &Source{rows: r, workspace: workspace, window: w}
}

// Schema returns a table's columns (an error wrapping kql.ErrNoTable when
// the workspace has no such table).
func (s *Source) Schema(ctx context.Context, table string) ([]kql.Column, error) {
	t, err := s.rows.Table(ctx, s.workspace, table)
	if err != nil {
		return nil, err
	}
	return t.kqlColumns(), nil
}

// CanFilter reports whether the filter translates to SQL exactly.
func (s *Source) CanFilter(table string, f kql.Filter) bool {
	t, err := s.rows.Table(context.Background(), s.workspace, table)
	if err != nil {
		return false
	}
	c := filterColumn(t, f.Column)
	if c == nil {
		return false
	}
	if c == &ingestedColumn {
		// a table an older release made lacks the column until its
		// first append from this one (ingested.go)
		if ok, err := s.rows.scanIngested(context.Background(), t.SQLName); err != nil || !ok {
			return false
		}
	}
	_, _, ok := sqlFilter(s.rows.raw.Dialect, *c, f)
	return ok
}

// HasIngestionTime reports that every table keeps its rows' ingestion
// time (null for rows stored before Steward kept it), so that
// ingestion_time() reads it.
func (s *Source) HasIngestionTime(string) bool { return true }

// ingestedColumn is the hidden ingestion time as a column, for the scans
// and filters that read it.
var ingestedColumn = Column{Name: kql.IngestionTimeColumn, Type: kql.TypeDateTime, SQL: ingestedSQL}

// filterColumn returns the column a pushed-down filter reads: a table
// column, or the hidden ingestion time. No table column can be named
// kql.IngestionTimeColumn (validName refuses '$').
func filterColumn(t *Table, name string) *Column {
	if c := t.column(name); c != nil {
		return c
	}
	if name == kql.IngestionTimeColumn {
		return &ingestedColumn
	}
	return nil
}

// CanOrder reports whether ORDER BY on the key's column orders exactly as
// kql's sort does (see orderSQL).
func (s *Source) CanOrder(table string, k kql.OrderKey) bool {
	c := s.column(table, k.Column)
	if c == nil {
		return false
	}
	_, ok := orderSQL(s.rows.raw.Dialect, *c)
	return ok
}

// column returns a column of one of the workspace's tables, nil when
// either is unknown. CanFilter and CanOrder have no context to pass.
func (s *Source) column(table, name string) *Column {
	t, err := s.rows.Table(context.Background(), s.workspace, table)
	if err != nil {
		return nil
	}
	return t.column(name)
}

// Scan runs the SELECT for req and streams its rows.
func (s *Source) Scan(ctx context.Context, req kql.ScanRequest) (kql.RowIter, error) {
	t, err := s.rows.Table(ctx, s.workspace, req.Table)
	if err != nil {
		return nil, err
	}
	ingested := false
	if req.IngestionTime {
		if ingested, err = s.rows.scanIngested(ctx, t.SQLName); err != nil {
			return nil, err
		}
	}
	q, args, cols, err := s.selectSQL(t, req, ingested)
	if err != nil {
		return nil, err
	}
	rows, err := s.rows.raw.Read.QueryContext(ctx, s.rows.raw.Dialect.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("scan of %s: %w", req.Table, err)
	}
	return newSQLIter(rows, cols), nil
}

// selectSQL builds the SELECT of a scan request; ingested says whether
// the table has the ingestion-time column (otherwise the ingestion time
// reads as null).
func (s *Source) selectSQL(t *Table, req kql.ScanRequest, ingested bool) (string, []any, []Column, error) {
	var cols []Column
	if req.Columns == nil {
		cols = t.Columns
	} else {
		for _, n := range req.Columns {
			c := t.column(n)
			if c == nil {
				return "", nil, nil, fmt.Errorf("scan of %s: unknown column %s", t.Name, n)
			}
			cols = append(cols, *c)
		}
	}
	if req.IngestionTime {
		// the hidden value after the requested columns (kql.ScanRequest)
		c := ingestedColumn
		if !ingested {
			c.SQL = "NULL"
		}
		cols = append(cols[:len(cols):len(cols)], c)
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.SQL
	}
	if len(names) == 0 {
		names = []string{"1"}
	}
	var where []string
	var args []any
	if s.window.From != 0 {
		where, args = append(where, "c0 >= ?"), append(args, s.window.From)
	}
	if s.window.To != 0 {
		where, args = append(where, "c0 <= ?"), append(args, s.window.To)
	}
	for _, f := range req.Filters {
		c := filterColumn(t, f.Column)
		if c == nil {
			return "", nil, nil, fmt.Errorf("scan of %s: unknown column %s", t.Name, f.Column)
		}
		pred, a, ok := sqlFilter(s.rows.raw.Dialect, *c, f)
		if !ok {
			return "", nil, nil, fmt.Errorf("scan of %s: filter %s cannot be applied", t.Name, f)
		}
		where, args = append(where, pred), append(args, a...)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(strings.Join(names, ", "))
	b.WriteString(" FROM ")
	b.WriteString(t.SQLName)
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if len(req.Order) > 0 {
		b.WriteString(" ORDER BY ")
		for _, k := range req.Order {
			c := t.column(k.Column)
			if c == nil {
				return "", nil, nil, fmt.Errorf("scan of %s: unknown column %s", t.Name, k.Column)
			}
			expr, ok := orderSQL(s.rows.raw.Dialect, *c)
			if !ok {
				return "", nil, nil, fmt.Errorf("scan of %s: cannot order by %s", t.Name, k.Column)
			}
			dir, nulls := "DESC", "LAST"
			if k.Asc {
				dir = "ASC"
			}
			if k.NullsFirst {
				nulls = "FIRST"
			}
			fmt.Fprintf(&b, "%s %s NULLS %s, ", expr, dir, nulls)
		}
		// Ties keep scan order, which is insertion order.
		b.WriteString("seq")
	} else if s.rows.partitioned() {
		// A partitioned table is scanned partition by partition (day by
		// day): insertion order has to be asked for.
		b.WriteString(" ORDER BY seq")
	}
	if req.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", req.Limit)
	}
	return b.String(), args, cols, nil
}

// orderSQL returns the SQL expression whose ORDER BY (with NULLS FIRST or
// LAST) orders column c as kql's sort orders its values; ok is false for
// dynamic columns, which sort by their JSON text. Integers, datetimes,
// timespans and bools are stored as integers and compare as they do in kql.
// Reals: kql sorts NaN with the nulls; SQLite already stores NaN as NULL,
// PostgreSQL sorts NaN above every number, so there it becomes NULL for the
// order. Strings and guids compare by their UTF-8 bytes in kql: SQLite's
// default BINARY collation does that, PostgreSQL needs COLLATE "C" (the
// database's collation may be a linguistic one). A guid stored as "" reads
// back as null (decodeValue), so it orders as NULL.
func orderSQL(d store.Dialect, c Column) (string, bool) {
	collate := ""
	if d == store.Postgres {
		collate = ` COLLATE "C"`
	}
	switch c.Type {
	case kql.TypeBool, kql.TypeInt, kql.TypeLong, kql.TypeDateTime, kql.TypeTimeSpan:
		return c.SQL, true
	case kql.TypeReal, kql.TypeDecimal:
		if d == store.Postgres {
			return "NULLIF(" + c.SQL + ", 'NaN'::double precision)", true
		}
		return c.SQL, true
	case kql.TypeString:
		return c.SQL + collate, true
	case kql.TypeGuid:
		return "NULLIF(" + c.SQL + ", '')" + collate, true
	}
	return "", false
}

// sqlIter decodes SQL rows into kql rows.
type sqlIter struct {
	rows  *sql.Rows
	cols  []Column
	dest  []any
	ints  []sql.NullInt64
	reals []sql.NullFloat64
	strs  []sql.NullString
	done  bool
}

func newSQLIter(rows *sql.Rows, cols []Column) *sqlIter {
	it := &sqlIter{rows: rows, cols: cols, ints: make([]sql.NullInt64, len(cols)),
		reals: make([]sql.NullFloat64, len(cols)), strs: make([]sql.NullString, len(cols))}
	it.dest = make([]any, max(1, len(cols)))
	if len(cols) == 0 {
		it.dest[0] = new(any)
	}
	for i, c := range cols {
		switch c.Type {
		case kql.TypeBool, kql.TypeInt, kql.TypeLong, kql.TypeDateTime, kql.TypeTimeSpan:
			it.dest[i] = &it.ints[i]
		case kql.TypeReal, kql.TypeDecimal:
			it.dest[i] = &it.reals[i]
		default:
			it.dest[i] = &it.strs[i]
		}
	}
	return it
}

// Next returns the next row, or io.EOF.
func (it *sqlIter) Next(ctx context.Context) (kql.Row, error) {
	if it.done {
		return nil, io.EOF
	}
	if !it.rows.Next() {
		it.done = true
		err := it.rows.Err()
		it.rows.Close()
		if err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	if err := it.rows.Scan(it.dest...); err != nil {
		return nil, err
	}
	row := make(kql.Row, len(it.cols))
	for i, c := range it.cols {
		row[i] = decodeValue(c.Type, it.ints[i], it.reals[i], it.strs[i])
	}
	return row, nil
}

// Close releases the SQL rows.
func (it *sqlIter) Close() error {
	it.done = true
	return it.rows.Close()
}

// decodeValue turns a scanned SQL value into a kql value of type t.
func decodeValue(t kql.Type, n sql.NullInt64, f sql.NullFloat64, s sql.NullString) kql.Value {
	switch t {
	case kql.TypeBool, kql.TypeInt, kql.TypeLong, kql.TypeDateTime, kql.TypeTimeSpan:
		if !n.Valid {
			return kql.Null(t)
		}
		return intValue(t, n.Int64)
	case kql.TypeReal, kql.TypeDecimal:
		if !f.Valid {
			return kql.Null(t)
		}
		if t == kql.TypeDecimal {
			return kql.Decimal(f.Float64)
		}
		return kql.Real(f.Float64)
	case kql.TypeString:
		return kql.String(s.String)
	}
	if !s.Valid || s.String == "" {
		return kql.Null(t)
	}
	if t == kql.TypeGuid {
		return kql.Guid(s.String)
	}
	x, err := parseJSON([]byte(s.String))
	if err != nil {
		return kql.Dynamic(s.String)
	}
	return kql.Dynamic(toKQL(x))
}

// intValue builds a value of an integer-stored type.
func intValue(t kql.Type, n int64) kql.Value {
	switch t {
	case kql.TypeBool:
		return kql.Bool(n != 0)
	case kql.TypeInt:
		return kql.Int(n)
	case kql.TypeDateTime:
		return kql.DateTime(n)
	case kql.TypeTimeSpan:
		return kql.TimeSpan(n)
	}
	return kql.Long(n)
}
