package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// data is the Table service's storage: the typed SQL tables of migrations,
// reached through store transactions.
type data struct {
	st  store.Store
	d   store.Dialect
	now func() time.Time
	// scanLimit is maxScan, lowered by tests.
	scanLimit int
}

// maxScan bounds the rows one query request reads; like the service's
// five-second limit, a query that reaches it answers with what it found
// and a continuation.
const maxScan = 10000

// maxPage is the most entities or tables one response holds.
const maxPage = 1000

func (d *data) q(s string) string { return d.d.Rebind(s) }

// tableRow is a table of an account.
type tableRow struct {
	Name string
	ACL  []SignedIdentifier
}

func (d *data) getTable(ctx context.Context, tx *sql.Tx, account, table string) (tableRow, error) {
	var name, acl string
	err := tx.QueryRowContext(ctx, d.q(`SELECT name, acl FROM storage_tables WHERE account = ? AND lname = ?`),
		account, strings.ToLower(table)).Scan(&name, &acl)
	if errors.Is(err, sql.ErrNoRows) {
		return tableRow{}, errTableNotFound
	}
	if err != nil {
		return tableRow{}, err
	}
	t := tableRow{Name: name}
	if acl != "" {
		if err := json.Unmarshal([]byte(acl), &t.ACL); err != nil {
			return tableRow{}, err
		}
	}
	return t, nil
}

func (d *data) view(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.st.View(ctx, func(tx store.Tx) error { return fn(tx.SQL()) })
}

func (d *data) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return d.st.Update(ctx, func(tx store.Tx) error { return fn(tx.SQL()) })
}

// table returns a table of the account.
func (d *data) table(ctx context.Context, account, table string) (t tableRow, err error) {
	err = d.view(ctx, func(tx *sql.Tx) error {
		t, err = d.getTable(ctx, tx, account, table)
		return err
	})
	return t, err
}

func (d *data) createTable(ctx context.Context, account, table string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		if _, err := d.getTable(ctx, tx, account, table); err == nil {
			return errTableExists
		} else if err != errTableNotFound {
			return err
		}
		_, err := tx.ExecContext(ctx, d.q(`INSERT INTO storage_tables (account, lname, name, acl, created) VALUES (?, ?, ?, '', ?)`),
			account, strings.ToLower(table), table, d.now().UnixNano())
		return err
	})
}

func (d *data) deleteTable(ctx context.Context, account, table string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`DELETE FROM storage_tables WHERE account = ? AND lname = ?`), account, strings.ToLower(table))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTableNotFound
		}
		_, err = tx.ExecContext(ctx, d.q(`DELETE FROM storage_entities WHERE account = ? AND tbl = ?`), account, strings.ToLower(table))
		return err
	})
}

// deleteAccount drops every table and entity of an account.
func (d *data) deleteAccount(ctx context.Context, account string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM storage_tables WHERE account = ?`), account); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, d.q(`DELETE FROM storage_entities WHERE account = ?`), account)
		return err
	})
}

func (d *data) setACL(ctx context.Context, account, table string, acl []SignedIdentifier) error {
	b, err := json.Marshal(acl)
	if err != nil {
		return err
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`UPDATE storage_tables SET acl = ? WHERE account = ? AND lname = ?`),
			string(b), account, strings.ToLower(table))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errTableNotFound
		}
		return nil
	})
}

// listTables returns the account's tables in name order after the
// continuation, those that filter keeps (nil keeps all), up to top.
func (d *data) listTables(ctx context.Context, account string, filter expr, top int, after string) (names []string, next string, err error) {
	err = d.view(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, d.q(`SELECT name, lname FROM storage_tables WHERE account = ? AND lname >= ? ORDER BY lname LIMIT ?`),
			account, strings.ToLower(after), maxScan)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name, lname string
			if err := rows.Scan(&name, &lname); err != nil {
				return err
			}
			if len(names) == top {
				next = name
				return nil
			}
			ent := Entity{Props: []Property{{Name: "TableName", Value: Value{Type: EdmString, S: name}}}}
			if filter == nil || match(filter, &ent) {
				names = append(names, name)
			}
		}
		return rows.Err()
	})
	return names, next, err
}

// getEntity reads one entity.
func (d *data) getEntity(ctx context.Context, account, table, pk, rk string) (e Entity, err error) {
	err = d.view(ctx, func(tx *sql.Tx) error {
		if _, err := d.getTable(ctx, tx, account, table); err != nil {
			return err
		}
		var found bool
		e, found, err = d.readEntity(ctx, tx, account, table, pk, rk)
		if err == nil && !found {
			err = errEntityNotFound
		}
		return err
	})
	return e, err
}

func (d *data) readEntity(ctx context.Context, tx *sql.Tx, account, table, pk, rk string) (Entity, bool, error) {
	var ts int64
	var props string
	err := tx.QueryRowContext(ctx, d.q(`SELECT ts, props FROM storage_entities WHERE account = ? AND tbl = ? AND pk = ? AND rk = ?`),
		account, strings.ToLower(table), pk, rk).Scan(&ts, &props)
	if errors.Is(err, sql.ErrNoRows) {
		return Entity{}, false, nil
	}
	if err != nil {
		return Entity{}, false, err
	}
	p, err := unmarshalProps([]byte(props))
	if err != nil {
		return Entity{}, false, err
	}
	return Entity{PartitionKey: pk, RowKey: rk, Timestamp: time.Unix(0, ts).UTC(), Props: p}, true, nil
}

// opKind is what a write does to an entity.
type opKind int

const (
	opInsert        opKind = iota // POST: create, 409 when present
	opReplace                     // PUT with If-Match
	opMerge                       // MERGE/PATCH with If-Match
	opUpsertReplace               // PUT without If-Match
	opUpsertMerge                 // MERGE/PATCH without If-Match
	opDelete                      // DELETE with If-Match
)

// entityOp is one write: the entity (keys and properties) and the
// request's If-Match.
type entityOp struct {
	Kind    opKind
	Entity  Entity
	IfMatch string
}

// opError is the failure of one write of a batch, with its index.
type opError struct {
	Index int
	Err   *Error
}

func (e *opError) Error() string { return e.Err.Error() }

// apply runs ops in one transaction: all of them or none. It returns the
// entities as written (the deleted one for a delete).
func (d *data) apply(ctx context.Context, account, table string, ops []entityOp) ([]Entity, error) {
	var out []Entity
	err := d.update(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		if _, err := d.getTable(ctx, tx, account, table); err != nil {
			return err
		}
		for i, op := range ops {
			e, err := d.applyOne(ctx, tx, account, table, op)
			if err != nil {
				var se *Error
				if errors.As(err, &se) {
					return &opError{Index: i, Err: se}
				}
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func (d *data) applyOne(ctx context.Context, tx *sql.Tx, account, table string, op entityOp) (Entity, error) {
	e := op.Entity
	cur, found, err := d.readEntity(ctx, tx, account, table, e.PartitionKey, e.RowKey)
	if err != nil {
		return Entity{}, err
	}
	switch op.Kind {
	case opInsert:
		if found {
			return Entity{}, errEntityExists
		}
	case opReplace, opMerge, opDelete:
		if !found {
			return Entity{}, errEntityNotFound
		}
		if !etagMatches(op.IfMatch, cur.ETag()) {
			return Entity{}, errConditionFailed
		}
	}
	lt := strings.ToLower(table)
	if op.Kind == opDelete {
		_, err := tx.ExecContext(ctx, d.q(`DELETE FROM storage_entities WHERE account = ? AND tbl = ? AND pk = ? AND rk = ?`),
			account, lt, e.PartitionKey, e.RowKey)
		return cur, err
	}
	if found && (op.Kind == opMerge || op.Kind == opUpsertMerge) {
		merged := cur
		merged.Props = append([]Property(nil), cur.Props...)
		merged.merge(e.Props)
		e.Props = merged.Props
	}
	if err := e.validate(); err != nil {
		return Entity{}, err
	}
	ts := d.now().UTC().Truncate(100 * time.Nanosecond)
	if found && !ts.After(cur.Timestamp) {
		ts = cur.Timestamp.Add(100 * time.Nanosecond)
	}
	e.Timestamp = ts
	props := string(marshalProps(e.Props))
	if found {
		_, err = tx.ExecContext(ctx, d.q(`UPDATE storage_entities SET ts = ?, props = ? WHERE account = ? AND tbl = ? AND pk = ? AND rk = ?`),
			ts.UnixNano(), props, account, lt, e.PartitionKey, e.RowKey)
	} else {
		_, err = tx.ExecContext(ctx, d.q(`INSERT INTO storage_entities (account, tbl, pk, rk, ts, props) VALUES (?, ?, ?, ?, ?, ?)`),
			account, lt, e.PartitionKey, e.RowKey, ts.UnixNano(), props)
	}
	return e, err
}

// etagMatches compares an If-Match value with an entity's ETag; "*"
// matches any.
func etagMatches(ifMatch, etag string) bool {
	m := strings.TrimSpace(ifMatch)
	if m == "*" {
		return true
	}
	norm := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, c := range strings.Split(m, ",") {
		if norm(c) == norm(etag) {
			return true
		}
	}
	return false
}

// entityQuery is a query of a table's entities.
type entityQuery struct {
	Filter expr
	// Range further restricts the keys (a SAS's spk/srk/epk/erk).
	Range    *sasRange
	Top      int
	AfterPK  string
	AfterRK  string
	HasAfter bool
}

// queryResult is a page of entities and the continuation, if any.
type queryResult struct {
	Entities       []Entity
	NextPK, NextRK string
	More           bool
}

// queryEntities pages through a table in key order, reading at most
// maxScan rows, with the key conditions of the filter (and of a SAS
// range) in SQL and the rest evaluated here.
func (d *data) queryEntities(ctx context.Context, account, table string, q entityQuery) (res queryResult, err error) {
	top := q.Top
	if top <= 0 || top > maxPage {
		top = maxPage
	}
	kr := pushdown(q.Filter)
	where := []string{"account = ?", "tbl = ?"}
	args := []any{account, strings.ToLower(table)}
	addBounds := func(col string, b bounds) {
		if b.Eq != nil {
			where = append(where, col+" = ?")
			args = append(args, *b.Eq)
		}
		if b.Low != nil {
			op := " >= ?"
			if b.LowExcl {
				op = " > ?"
			}
			where = append(where, col+op)
			args = append(args, *b.Low)
		}
		if b.High != nil {
			op := " <= ?"
			if b.HighExcl {
				op = " < ?"
			}
			where = append(where, col+op)
			args = append(args, *b.High)
		}
	}
	addBounds("pk", kr.PK)
	addBounds("rk", kr.RK)
	if r := q.Range; r != nil {
		if r.StartPK != "" {
			where = append(where, "(pk > ? OR (pk = ? AND rk >= ?))")
			args = append(args, r.StartPK, r.StartPK, r.StartRK)
		}
		if r.EndPK != "" {
			if r.EndRK != "" {
				where = append(where, "(pk < ? OR (pk = ? AND rk <= ?))")
				args = append(args, r.EndPK, r.EndPK, r.EndRK)
			} else {
				where = append(where, "pk <= ?")
				args = append(args, r.EndPK)
			}
		}
	}
	err = d.view(ctx, func(tx *sql.Tx) error {
		if _, err := d.getTable(ctx, tx, account, table); err != nil {
			return err
		}
		afterPK, afterRK, hasAfter := q.AfterPK, q.AfterRK, q.HasAfter
		limit := d.scanLimit
		if limit <= 0 {
			limit = maxScan
		}
		scanned := 0
		for scanned < limit {
			w, a := where, args
			if hasAfter {
				w = append(append([]string(nil), w...), "(pk > ? OR (pk = ? AND rk >= ?))")
				a = append(append([]any(nil), a...), afterPK, afterPK, afterRK)
			}
			chunk := min(limit-scanned, 1000)
			a = append(a, chunk+1)
			rows, err := tx.QueryContext(ctx, d.q(`SELECT pk, rk, ts, props FROM storage_entities WHERE `+
				strings.Join(w, " AND ")+` ORDER BY pk, rk LIMIT ?`), a...)
			if err != nil {
				return err
			}
			n, done, err := d.scanChunk(rows, q.Filter, top, chunk, &res)
			rows.Close()
			if err != nil {
				return err
			}
			scanned += n
			if done {
				return nil
			}
			if !res.More {
				return nil
			}
			afterPK, afterRK, hasAfter = res.NextPK, res.NextRK, true
			res.More = false
			if scanned >= limit {
				res.More = true
			}
		}
		return nil
	})
	return res, err
}

// scanChunk reads up to chunk rows (the query asked for one more, to know
// whether more follow), keeping the matches. It reports rows read and
// whether the page is complete (top reached, or the table exhausted). When
// more rows follow, res.More is set with the key to resume at.
func (d *data) scanChunk(rows *sql.Rows, filter expr, top, chunk int, res *queryResult) (int, bool, error) {
	n := 0
	for rows.Next() {
		var pk, rk, props string
		var ts int64
		if err := rows.Scan(&pk, &rk, &ts, &props); err != nil {
			return n, true, err
		}
		if n == chunk || len(res.Entities) == top {
			res.NextPK, res.NextRK, res.More = pk, rk, true
			return n, len(res.Entities) == top, nil
		}
		n++
		row := storedRow{pk: pk, rk: rk, ts: time.Unix(0, ts).UTC()}
		if err := json.Unmarshal([]byte(props), &row.raw); err != nil {
			return n, true, err
		}
		if filter != nil && !match(filter, &row) {
			continue
		}
		e, err := row.entity()
		if err != nil {
			return n, true, err
		}
		res.Entities = append(res.Entities, e)
	}
	return n, true, rows.Err()
}
