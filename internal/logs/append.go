package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// AppendMode says what Append does with a table or columns that do not
// exist yet.
type AppendMode int

const (
	// Evolve creates the table and adds missing columns (Data Collector
	// API, inferred schemas).
	Evolve AppendMode = iota
	// Fixed requires the table and drops the columns it does not have
	// (Logs Ingestion API: the table resource defines the schema).
	Fixed
)

// maxSQLParams bounds the placeholders of one INSERT (SQLite's limit is
// 32766, PostgreSQL's 65535).
const maxSQLParams = 30000

// Append writes rows to a workspace's table in one transaction: when it
// returns nil the rows are durable. cols names and types the values of each
// row; a row's TimeGenerated that is null, or a missing TimeGenerated
// column, is set to the ingestion time. Every row also keeps the time it
// was stored (the Rows clock, one value per call), which KQL's
// ingestion_time() returns.
func (r *Rows) Append(ctx context.Context, workspace, name string, cols []kql.Column, rows []kql.Row, mode AppendMode) error {
	if len(rows) == 0 {
		return nil
	}
	if !validName(name, MaxTableNameLen) {
		return fmt.Errorf("invalid table name %q", name)
	}
	table, days, err := r.appendRows(ctx, workspace, name, cols, rows, mode)
	if err != nil {
		return err
	}
	// The rows are durable (in the default partition when their day had
	// none): make their days' partitions, moving them there.
	if err := r.ensurePartitions(ctx, table, days); err != nil {
		return fmt.Errorf("append to %s: the rows are written; %w", name, err)
	}
	return nil
}

// appendRows is Append's transaction: it returns the table and the days
// of the rows written.
func (r *Rows) appendRows(ctx context.Context, workspace, name string, cols []kql.Column, rows []kql.Row, mode AppendMode) (*Table, map[int64]bool, error) {
	now := kql.DateTime(Ticks(r.now()))
	if mode == Evolve && r.schemaChange(ctx, workspace, name, cols) {
		unlock, err := r.lockTable(ctx, workspace, name)
		if err != nil {
			return nil, nil, err
		}
		defer unlock()
	}
	var days map[int64]bool
	var table *Table
	err := r.update(ctx, func(tx store.Tx) error {
		var t *Table
		var etag string
		var err error
		if mode == Fixed {
			t, err = r.load(ctx, tx, workspace, name)
		} else {
			t, etag, err = r.ensure(ctx, tx, workspace, name)
		}
		if err != nil {
			return err
		}
		var add []kql.Column
		for _, c := range cols {
			if ex := t.column(c.Name); ex == nil && mode == Evolve {
				add = append(add, c)
			}
		}
		if mode == Evolve && (len(add) > 0 || etag == "") {
			t = cloneTable(t)
			if err := r.addColumns(ctx, tx, t, add); err != nil {
				return err
			}
			if err := r.save(ctx, tx, t, etag); err != nil {
				return err
			}
		}
		if err := r.ensureIngested(ctx, tx.SQL(), t.SQLName); err != nil {
			return err
		}
		table, days = t, map[int64]bool{}
		return r.insert(ctx, tx, t, cols, rows, now, days)
	})
	if err == nil {
		r.markIngested(table.SQLName)
	}
	return table, days, err
}

// schemaChange reports whether appending cols may create the table or add
// columns (a stale answer is safe: the transaction re-reads the schema,
// and a false "no change" at worst runs unlocked DDL that the etag check
// then retries).
func (r *Rows) schemaChange(ctx context.Context, workspace, name string, cols []kql.Column) bool {
	t, err := r.Table(ctx, workspace, name)
	if err != nil {
		return true
	}
	for _, c := range cols {
		if t.column(c.Name) == nil {
			return true
		}
	}
	return false
}

// insert writes rows into t's SQL table in multi-row INSERTs.
// The days (since tick 0) of the rows' TimeGenerated are added to days.
func (r *Rows) insert(ctx context.Context, tx store.Tx, t *Table, cols []kql.Column, rows []kql.Row, now kql.Value, days map[int64]bool) error {
	type target struct {
		src int
		col Column
	}
	var targets []target
	tgSrc := -1
	for i, c := range cols {
		tc := t.column(c.Name)
		if tc == nil {
			continue
		}
		if c.Name == TimeGenerated {
			tgSrc = i
		}
		targets = append(targets, target{src: i, col: *tc})
	}
	if tgSrc < 0 {
		targets = append(targets, target{src: -1, col: t.Columns[0]})
	}
	// every row of the batch gets the time it is stored, read from the
	// Rows clock in the transaction that writes it
	stored := Ticks(r.now())
	names := make([]string, len(targets), len(targets)+1)
	for i, tg := range targets {
		names[i] = tg.col.SQL
	}
	names = append(names, ingestedSQL)
	width := len(targets) + 1
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	per := max(1, maxSQLParams/width)
	d := r.raw.Dialect
	args := make([]any, 0, min(per, len(rows))*width)
	for start := 0; start < len(rows); start += per {
		end := min(len(rows), start+per)
		args = args[:0]
		for _, row := range rows[start:end] {
			for _, tg := range targets {
				var v kql.Value
				if tg.src >= 0 && tg.src < len(row) {
					v = row[tg.src]
				}
				if tg.col.Name == TimeGenerated {
					if v.IsNull() || v.T != kql.TypeDateTime {
						if cv := convertValue(v, kql.TypeDateTime); !cv.IsNull() {
							v = cv
						} else {
							v = now
						}
					}
					days[v.AsInt()/ticksPerDay] = true
				} else if v.T != tg.col.Type {
					v = convertValue(v, tg.col.Type)
				}
				args = append(args, sqlArg(v))
			}
			args = append(args, stored)
		}
		q := "INSERT INTO " + t.SQLName + " (" + strings.Join(names, ",") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(one+",", end-start), ",")
		if _, err := tx.SQL().ExecContext(ctx, d.Rebind(q), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", t.Name, err)
		}
	}
	return nil
}

// convertValue converts v to type t as ingestion does: through the JSON
// form of v, so "12" becomes 12 in a long column; a value that does not
// convert becomes null.
func convertValue(v kql.Value, t kql.Type) kql.Value {
	if v.T == t || v.IsNull() {
		if v.IsNull() {
			return kql.Null(t)
		}
		return v
	}
	var x any
	switch v.T {
	case kql.TypeString, kql.TypeGuid:
		x = v.AsString()
	case kql.TypeBool:
		x = v.AsBool()
	case kql.TypeInt, kql.TypeLong:
		x = json.Number(strconv.FormatInt(v.AsInt(), 10))
	case kql.TypeReal, kql.TypeDecimal:
		x = json.Number(strconv.FormatFloat(v.AsReal(), 'g', -1, 64))
	case kql.TypeDateTime:
		x = TimeOf(v.AsInt()).Format("2006-01-02T15:04:05.9999999Z")
	case kql.TypeTimeSpan:
		x = json.Number(strconv.FormatInt(v.AsInt(), 10))
	case kql.TypeDynamic:
		x = v.AsDynamic()
		if t == kql.TypeString {
			return kql.String(v.Plain())
		}
	}
	out, _ := coerce(x, t)
	return out
}

// cloneTable copies a table's schema so that a failed transaction leaves
// the cached copy untouched.
func cloneTable(t *Table) *Table {
	c := *t
	c.Columns = append([]Column(nil), t.Columns...)
	return &c
}
