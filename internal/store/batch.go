package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Entry is one record of a batch write.
type Entry struct {
	Key   string
	Value []byte
}

// batchRows is how many records one batch statement carries: on SQLite
// six parameters a row (under its limit of 32,766 parameters), on
// PostgreSQL that many elements of each array (writeArrays).
const batchRows = 2000

// keyRows is how many keys one DeleteMany or GetMany statement names
// (k IN (...)). Lists of 2,000 keys made PostgreSQL's planner choose
// other plans: the reads and deletes of an assignment's scan took twice
// as long as with 500.
const keyRows = 500

// PutMany writes entries to table unconditionally, with the effect of one
// Put with the zero Cond per entry in order (a key given twice keeps its
// last value), but in a few multi-row statements instead of one round trip
// per record, and without returning the records' metadata. Transactions
// that are not the SQL store's own (wrappers) get one Put per entry.
func PutMany(ctx context.Context, tx Tx, table string, entries []Entry) error {
	return writeMany(ctx, tx, table, entries, false)
}

// InsertMany is PutMany for keys the transaction has read and found
// absent (a range it scanned): the statements insert without an upsert's
// conflict clause, which on PostgreSQL cost the server about a fifth more
// per row. A key that is present after all fails the transaction: on
// PostgreSQL, a concurrent transaction's insert of a key this one read as
// absent comes back as a serialization failure or a unique violation
// (errInsertRaced), and Update runs it again; anywhere else it is the
// caller's error (ErrExists, or the database's unique violation).
// Wrappers get one IfAbsent Put per entry.
func InsertMany(ctx context.Context, tx Tx, table string, entries []Entry) error {
	return writeMany(ctx, tx, table, entries, true)
}

func writeMany(ctx context.Context, tx Tx, table string, entries []Entry, insert bool) error {
	t, ok := tx.(*sqlTx)
	if !ok {
		cond := Cond{IfAbsent: insert}
		for _, e := range entries {
			if _, err := tx.Put(ctx, table, e.Key, e.Value, cond); err != nil {
				return err
			}
		}
		return nil
	}
	if err := t.check(ctx, table, true); err != nil {
		return err
	}
	// One statement may not touch a row twice on PostgreSQL: keep each
	// key's last entry, in the order given.
	last := make(map[string]int, len(entries))
	for i, e := range entries {
		if err := checkKey(e.Key); err != nil {
			return err
		}
		if len(e.Value) > MaxValueLen {
			return fmt.Errorf("%w: value of %d bytes exceeds %d", ErrInvalid, len(e.Value), MaxValueLen)
		}
		last[e.Key] = i
	}
	rows := entries
	if len(last) < len(entries) {
		rows = make([]Entry, 0, len(last))
		for i, e := range entries {
			if last[e.Key] == i {
				rows = append(rows, e)
			}
		}
	}
	ns := t.s.now().UnixNano()
	if t.s.dialect == Postgres {
		return t.writeArrays(ctx, table, rows, ns, insert)
	}
	for len(rows) > 0 {
		n := min(len(rows), batchRows)
		args := make([]any, 0, 6*n)
		for _, e := range rows[:n] {
			v := e.Value
			if v == nil {
				v = []byte{} // NOT NULL column
			}
			args = append(args, table, e.Key, v, ns, ns)
			rev, err := t.nextRev(ctx)
			if err != nil {
				return err
			}
			args = append(args, rev...)
		}
		if _, err := t.tx.ExecContext(ctx, t.s.upsertMany(n, insert), args...); err != nil {
			return fmt.Errorf("store: put %d records in %s: %w", n, table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// writeArrays is writeMany's statement on PostgreSQL: the keys and values
// go as two array parameters that unnest turns into rows, so the
// statement has four parameters whatever the row count, rather than five
// per row for the driver to convert and encode and the server to parse.
func (t *sqlTx) writeArrays(ctx context.Context, table string, rows []Entry, ns int64, insert bool) error {
	if len(rows) == 0 {
		return nil
	}
	keys := make([]string, len(rows))
	vals := make([][]byte, len(rows))
	for i, e := range rows {
		keys[i], vals[i] = e.Key, e.Value
		if vals[i] == nil {
			vals[i] = []byte{} // NOT NULL column
		}
	}
	q := "INSERT INTO steward_records (tbl, k, v, created, updated, rev) " +
		"SELECT $1, u.k, u.v, $2, $2, nextval('steward_revision') FROM unnest($3::text[], $4::bytea[]) AS u(k, v)"
	if !insert {
		q += " ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v, rev = excluded.rev, updated = excluded.updated"
	}
	// batchRows rows a statement, so that one message (and the
	// connection's buffer, which keeps its largest size) stays a few MB.
	for len(keys) > 0 {
		n := min(len(keys), batchRows)
		if _, err := t.tx.ExecContext(ctx, q, table, ns, keys[:n], vals[:n]); err != nil {
			if insert && pgUniqueViolation(err) {
				return fmt.Errorf("%w: %w", errInsertRaced, err)
			}
			return fmt.Errorf("store: put %d records in %s: %w", n, table, err)
		}
		keys, vals = keys[n:], vals[n:]
	}
	return nil
}

// DeleteMany removes the records at keys from table; keys that are not
// there are no error. Like PutMany it takes few statements on the SQL
// store and falls back to one Delete per key on other transactions.
func DeleteMany(ctx context.Context, tx Tx, table string, keys []string) error {
	t, ok := tx.(*sqlTx)
	if !ok {
		for _, k := range keys {
			if err := tx.Delete(ctx, table, k, Cond{}); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	}
	if err := t.check(ctx, table, true); err != nil {
		return err
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), keyRows)
		if _, err := t.tx.ExecContext(ctx, t.s.deleteMany(n), keyArgs(table, keys[:n])...); err != nil {
			return fmt.Errorf("store: delete %d records in %s: %w", n, table, err)
		}
		keys = keys[n:]
	}
	return nil
}

// GetMany reads the records at keys of table that exist, in key order
// (keys that are not there are left out), like one Get per key but in
// few statements on the SQL store: on PostgreSQL each Get is a round trip.
// Other transactions get one Get per key.
func GetMany(ctx context.Context, tx Tx, table string, keys []string) ([]Record, error) {
	var out []Record
	t, ok := tx.(*sqlTx)
	if !ok {
		for _, k := range keys {
			r, err := tx.Get(ctx, table, k)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
		return out, nil
	}
	if err := t.check(ctx, table, false); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), keyRows)
		err := func() error {
			rows, err := t.tx.QueryContext(ctx, t.s.getMany(n), keyArgs(table, keys[:n])...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				rec := Record{Table: table}
				var rev, created, updated int64
				if err := rows.Scan(&rec.Key, &rec.Value, &rev, &created, &updated); err != nil {
					return err
				}
				if rec.Value == nil {
					rec.Value = []byte{}
				}
				setMeta(&rec, rev, created, updated)
				out = append(out, rec)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("store: get %d records of %s: %w", n, table, err)
		}
		keys = keys[n:]
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	// A key given twice is read once.
	return slices.CompactFunc(out, func(a, b Record) bool { return a.Key == b.Key }), nil
}

// getManyN keys the cached statements of getMany apart from the others.
type getManyN int

// getMany is the statement reading n keys of a table.
func (s *sqlStore) getMany(n int) string {
	return s.keysStatement(getManyN(n), "SELECT k, v, rev, created, updated FROM steward_records WHERE tbl = ? AND k IN", n)
}

// upsertMany is SQLite's statement writing n records (PostgreSQL writes
// through writeArrays), inserting only with insert; built once per n and
// kind, then cached. The revision is a parameter (sqlTx.nextRev).
func (s *sqlStore) upsertMany(n int, insert bool) string {
	key := any(n)
	if insert {
		key = insertKey(n)
	}
	if q, ok := s.batchSQL.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO steward_records (tbl, k, v, created, updated, rev) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?)")
	}
	if !insert {
		b.WriteString(" ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v, rev = excluded.rev, updated = excluded.updated")
	}
	q := s.dialect.Rebind(b.String())
	s.batchSQL.Store(key, q)
	return q
}

// errInsertRaced marks InsertMany's unique violation on PostgreSQL: a key
// read as absent was inserted by a concurrent transaction (PostgreSQL
// reports that as a unique violation, not always as a serialization
// failure, and advises retrying both), so Update runs the transaction
// again. A key that was present all along fails every attempt and ends in
// ErrConflict.
var errInsertRaced = errors.New("store: a key read as absent was inserted concurrently")

// insertKey caches the insert statements apart from the upserts.
type insertKey int

// deleteMany is the statement deleting n keys of a table.
func (s *sqlStore) deleteMany(n int) string {
	return s.keysStatement(-n, "DELETE FROM steward_records WHERE tbl = ? AND k IN", n)
}

// keysStatement is head followed by a list of n placeholders, rebound
// for the dialect (built once per key, then cached).
func (s *sqlStore) keysStatement(key any, head string, n int) string {
	if q, ok := s.batchSQL.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(" (")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
	}
	b.WriteByte(')')
	q := s.dialect.Rebind(b.String())
	s.batchSQL.Store(key, q)
	return q
}

// keyArgs are the arguments of a keysStatement on table.
func keyArgs(table string, keys []string) []any {
	args := make([]any, 0, len(keys)+1)
	args = append(args, table)
	for _, k := range keys {
		args = append(args, k)
	}
	return args
}

// Keys lists the keys of table that q selects, a page at a time like
// Scan with KeysOnly, but returns only the keys (Records carry Table and
// Key, no metadata). On the SQL store the query reads the primary-key
// index alone, without a lookup of each record's row, which made sweeps
// over hundreds of thousands of records cost as much as reading them.
// Transactions that are not the SQL store's own get a KeysOnly Scan.
func Keys(ctx context.Context, tx Tx, table string, q Query) (Page, error) {
	t, ok := tx.(*sqlTx)
	if !ok {
		q.KeysOnly = true
		return tx.Scan(ctx, table, q)
	}
	if err := t.check(ctx, table, false); err != nil {
		return Page{}, err
	}
	lo, after, hi, empty, err := keyRange(q)
	if err != nil || empty {
		return Page{}, err
	}
	limit, err := pageLimit(q)
	if err != nil {
		return Page{}, err
	}
	query := "SELECT k FROM steward_records WHERE tbl = ? AND k >= ? AND k > ?"
	args := []any{table, lo, after}
	if hi != "" {
		query += " AND k < ?"
		args = append(args, hi)
	}
	query += " ORDER BY k LIMIT ?"
	args = append(args, limit+1)
	rows, err := t.tx.QueryContext(ctx, t.s.dialect.Rebind(query), args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: keys of %s: %w", table, err)
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		if len(page.Records) == limit {
			page.Next = encodeToken(page.Records[limit-1].Key)
			break
		}
		rec := Record{Table: table}
		if err := rows.Scan(&rec.Key); err != nil {
			return Page{}, fmt.Errorf("store: keys of %s: %w", table, err)
		}
		page.Records = append(page.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("store: keys of %s: %w", table, err)
	}
	return page, nil
}
