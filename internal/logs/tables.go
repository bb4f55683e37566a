package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// Store record tables the logs engine keeps.
const (
	tablesTable     = "logs-tables"
	workspacesTable = "logs-workspaces"
	wsByIDTable     = "logs-workspace-ids"
	dcrsTable       = "logs-dcrs"
)

// ErrNoTable is returned (wrapped) for a table a workspace does not have.
var ErrNoTable = kql.ErrNoTable

// Rows keeps the log tables of all workspaces on a store: schemas as store
// records, rows in one SQL table per log table.
type Rows struct {
	st  store.Store
	raw store.Raw
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedTable // by tableKey
	// parts are the day partitions this replica knows exist, by SQL
	// table name (PostgreSQL; see partition.go).
	parts map[string]map[int64]bool
	// ingested are the SQL tables known to have the ingestion-time
	// column (ingested.go).
	ingested map[string]bool
}

type cachedTable struct {
	etag string
	t    *Table
}

// NewRows returns the table store over st; now is the clock retention and
// ingestion read (time.Now when nil).
func NewRows(st store.Store, now func() time.Time) *Rows {
	if now == nil {
		now = time.Now
	}
	return &Rows{st: st, raw: st.Raw(), now: now, cache: map[string]cachedTable{}, parts: map[string]map[int64]bool{},
		ingested: map[string]bool{}}
}

// Dialect is the SQL dialect of the store underneath.
func (r *Rows) Dialect() store.Dialect { return r.raw.Dialect }

// Table returns the schema of a workspace's table (ErrNoTable when absent).
func (r *Rows) Table(ctx context.Context, workspace, name string) (*Table, error) {
	var t *Table
	err := r.st.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = r.load(ctx, tx, workspace, name)
		return err
	})
	return t, err
}

// load reads a table's schema record, through the cache when its etag has
// not changed.
func (r *Rows) load(ctx context.Context, tx store.Tx, workspace, name string) (*Table, error) {
	key := tableKey(workspace, name)
	rec, err := tx.Get(ctx, tablesTable, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoTable, name)
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	c, ok := r.cache[key]
	r.mu.Unlock()
	if ok && c.etag == rec.ETag {
		return c.t, nil
	}
	t := &Table{}
	if err := json.Unmarshal(rec.Value, t); err != nil {
		return nil, fmt.Errorf("table %s: corrupt schema record: %w", name, err)
	}
	r.mu.Lock()
	r.cache[key] = cachedTable{etag: rec.ETag, t: t}
	r.mu.Unlock()
	return t, nil
}

// ListTables returns the tables of a workspace in name order.
func (r *Rows) ListTables(ctx context.Context, workspace string) ([]*Table, error) {
	var out []*Table
	err := r.st.View(ctx, func(tx store.Tx) error {
		q := store.Query{Prefix: strings.ToLower(workspace) + "|", Limit: store.MaxPageSize}
		for {
			page, err := tx.Scan(ctx, tablesTable, q)
			if err != nil {
				return err
			}
			for _, rec := range page.Records {
				t := &Table{}
				if err := json.Unmarshal(rec.Value, t); err != nil {
					return err
				}
				out = append(out, t)
			}
			if page.Next == "" {
				return nil
			}
			q.After = page.Next
		}
	})
	return out, err
}

// DefineTable creates a table with the given columns, or adds the columns
// it lacks; a column that exists with another type is an error, as Azure
// refuses to change a column's type. TimeGenerated is added when missing.
// retentionDays of 0 keeps the current setting.
func (r *Rows) DefineTable(ctx context.Context, workspace, name string, cols []kql.Column, retentionDays int) (*Table, error) {
	if !validName(name, MaxTableNameLen) {
		return nil, fmt.Errorf("invalid table name %q", name)
	}
	unlock, err := r.lockTable(ctx, workspace, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out *Table
	err = r.update(ctx, func(tx store.Tx) error {
		t, etag, err := r.ensure(ctx, tx, workspace, name)
		if err != nil {
			return err
		}
		var add []kql.Column
		for _, c := range cols {
			if ex := t.column(c.Name); ex != nil {
				if ex.Type != c.Type {
					return fmt.Errorf("column %s of table %s is %s and cannot become %s", c.Name, name, ex.Type, c.Type)
				}
				continue
			}
			add = append(add, c)
		}
		changed := retentionDays != 0 && retentionDays != t.RetentionDays
		t.RetentionDays = max(t.RetentionDays, 0)
		if retentionDays != 0 {
			t.RetentionDays = retentionDays
		}
		if err := r.addColumns(ctx, tx, t, add); err != nil {
			return err
		}
		if len(add) > 0 || changed || etag == "" {
			if err := r.save(ctx, tx, t, etag); err != nil {
				return err
			}
		}
		out = t
		return nil
	})
	return out, err
}

// DropTable deletes a table and its rows.
func (r *Rows) DropTable(ctx context.Context, workspace, name string) error {
	unlock, err := r.lockTable(ctx, workspace, name)
	if err != nil {
		return err
	}
	defer unlock()
	return r.update(ctx, func(tx store.Tx) error {
		t, err := r.load(ctx, tx, workspace, name)
		if err != nil {
			return err
		}
		if _, err := tx.SQL().ExecContext(ctx, "DROP TABLE IF EXISTS "+t.SQLName); err != nil {
			return err
		}
		r.mu.Lock()
		delete(r.parts, t.SQLName)
		delete(r.ingested, t.SQLName)
		r.mu.Unlock()
		return tx.Delete(ctx, tablesTable, tableKey(workspace, name), store.Cond{})
	})
}

// lockTable holds the named lock of a table while its schema changes, so
// that replicas creating the same table or adding the same column take
// turns (PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a
// concurrent create).
func (r *Rows) lockTable(ctx context.Context, workspace, name string) (func(), error) {
	l, err := r.st.Lock(ctx, "logs-table:"+tableKey(workspace, name))
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Release(context.WithoutCancel(ctx)) }, nil
}

// update runs fn in a store transaction, again when a concurrent schema
// change (another replica creating the same table or adding a column) made
// it fail its precondition.
func (r *Rows) update(ctx context.Context, fn func(tx store.Tx) error) error {
	var err error
	for range 5 {
		err = r.st.Update(ctx, fn)
		if !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrPrecondition) {
			return err
		}
	}
	return err
}

// ensure returns the table's schema, creating the SQL table (with
// TimeGenerated) when it does not exist; etag is "" for a new table.
func (r *Rows) ensure(ctx context.Context, tx store.Tx, workspace, name string) (*Table, string, error) {
	key := tableKey(workspace, name)
	rec, err := tx.Get(ctx, tablesTable, key)
	if err == nil {
		t := &Table{}
		if err := json.Unmarshal(rec.Value, t); err != nil {
			return nil, "", err
		}
		return t, rec.ETag, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	t := &Table{Workspace: strings.ToLower(workspace), Name: name, SQLName: sqlTableName(workspace, name),
		Columns: []Column{{Name: TimeGenerated, Type: kql.TypeDateTime, SQL: "c0"}}, NextSQL: 1}
	d := r.raw.Dialect
	seq := "seq INTEGER PRIMARY KEY"
	if d == store.Postgres {
		seq = "seq BIGSERIAL PRIMARY KEY"
	}
	stmts := []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s, c0 %s, %s %s)", t.SQLName, seq,
		sqlType(d, kql.TypeDateTime), ingestedSQL, sqlType(d, kql.TypeDateTime))}
	if r.partitioned() {
		stmts = createPartitionedTable(t.SQLName)
	}
	stmts = append(stmts, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s_tg ON %s (c0)", t.SQLName, t.SQLName))
	for _, s := range stmts {
		if _, err := tx.SQL().ExecContext(ctx, s); err != nil {
			return nil, "", fmt.Errorf("create table %s: %w", name, err)
		}
	}
	return t, "", nil
}

// addColumns adds SQL columns for cols to t.
func (r *Rows) addColumns(ctx context.Context, tx store.Tx, t *Table, cols []kql.Column) error {
	if len(t.Columns)+len(cols) > MaxColumns {
		return fmt.Errorf("table %s would have more than %d columns", t.Name, MaxColumns)
	}
	ifNot := ""
	if r.raw.Dialect == store.Postgres {
		ifNot = "IF NOT EXISTS "
	}
	for _, c := range cols {
		sqlName := fmt.Sprintf("c%d", t.NextSQL)
		t.NextSQL++
		stmt := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s%s %s", t.SQLName, ifNot, sqlName, sqlType(r.raw.Dialect, c.Type))
		if _, err := tx.SQL().ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("add column %s to %s: %w", c.Name, t.Name, err)
		}
		t.Columns = append(t.Columns, Column{Name: c.Name, Type: c.Type, SQL: sqlName})
	}
	return nil
}

// save writes a table's schema record (created when etag is "").
func (r *Rows) save(ctx context.Context, tx store.Tx, t *Table, etag string) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	cond := store.IfAbsent()
	if etag != "" {
		cond = store.IfMatch(etag)
	}
	_, err = tx.Put(ctx, tablesTable, tableKey(t.Workspace, t.Name), b, cond)
	return err
}
