package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sqlTx is the Tx of sqlStore.
type sqlTx struct {
	s        *sqlStore
	tx       *sql.Tx
	readOnly bool
	done     bool
	// SQLite only: the last revision this transaction handed out, read
	// from steward_revision at the first write and written back by flush.
	rev                 int64
	revLoaded, revDirty bool
	// notes are the channels (and payloads) Notify and NotifyPayload
	// named, signalled after commit.
	notes []txNote
}

var errTxDone = errors.New("store: transaction used after its function returned")

func (t *sqlTx) check(ctx context.Context, table string, write bool) error {
	if t.done {
		return errTxDone
	}
	if write && t.readOnly {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return checkTable(table)
}

// SQL implements Tx.
func (t *sqlTx) SQL() *sql.Tx { return t.tx }

// Get implements Tx.
func (t *sqlTx) Get(ctx context.Context, table, key string) (Record, error) {
	if err := t.check(ctx, table, false); err != nil {
		return Record{}, err
	}
	if err := checkKey(key); err != nil {
		return Record{}, err
	}
	rec := Record{Table: table, Key: key}
	var rev, created, updated int64
	err := t.tx.QueryRowContext(ctx, t.s.q.get, table, key).Scan(&rec.Value, &rev, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("%w: %s/%s", ErrNotFound, table, key)
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: get %s/%s: %w", table, key, err)
	}
	if rec.Value == nil {
		rec.Value = []byte{}
	}
	setMeta(&rec, rev, created, updated)
	return rec, nil
}

// Put implements Tx.
func (t *sqlTx) Put(ctx context.Context, table, key string, value []byte, cond Cond) (Record, error) {
	if err := t.check(ctx, table, true); err != nil {
		return Record{}, err
	}
	if err := checkKey(key); err != nil {
		return Record{}, err
	}
	if len(value) > MaxValueLen {
		return Record{}, fmt.Errorf("%w: value of %d bytes exceeds %d", ErrInvalid, len(value), MaxValueLen)
	}
	if cond.IfAbsent && cond.IfMatch != "" {
		return Record{}, fmt.Errorf("%w: IfAbsent and IfMatch together", ErrInvalid)
	}
	if value == nil {
		value = []byte{} // NOT NULL column
	}
	revArg, err := t.nextRev(ctx)
	if err != nil {
		return Record{}, err
	}
	now := t.s.now()
	ns := now.UnixNano()
	var row *sql.Row
	switch {
	case cond.IfAbsent:
		row = t.tx.QueryRowContext(ctx, t.s.q.insertIfAbsent, append([]any{table, key, value, ns, ns}, revArg...)...)
	case cond.IfMatch != "":
		rev, ok := parseETag(cond.IfMatch)
		if !ok {
			return Record{}, fmt.Errorf("%w: %s/%s", ErrPrecondition, table, key)
		}
		args := append(append([]any{value, ns}, revArg...), table, key, rev)
		row = t.tx.QueryRowContext(ctx, t.s.q.updateIfMatch, args...)
	default:
		row = t.tx.QueryRowContext(ctx, t.s.q.upsert, append([]any{table, key, value, ns, ns}, revArg...)...)
	}
	var rev, created int64
	err = row.Scan(&rev, &created)
	if errors.Is(err, sql.ErrNoRows) {
		if cond.IfAbsent {
			return Record{}, fmt.Errorf("%w: %s/%s", ErrExists, table, key)
		}
		return Record{}, fmt.Errorf("%w: %s/%s", ErrPrecondition, table, key)
	}
	if err != nil {
		return Record{}, fmt.Errorf("store: put %s/%s: %w", table, key, err)
	}
	rec := Record{Table: table, Key: key, Value: value}
	setMeta(&rec, rev, created, ns)
	return rec, nil
}

// Delete implements Tx.
func (t *sqlTx) Delete(ctx context.Context, table, key string, cond Cond) error {
	if err := t.check(ctx, table, true); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if cond.IfAbsent {
		return fmt.Errorf("%w: IfAbsent on a delete", ErrInvalid)
	}
	var res sql.Result
	var err error
	if cond.IfMatch != "" {
		rev, ok := parseETag(cond.IfMatch)
		if !ok {
			return fmt.Errorf("%w: %s/%s", ErrPrecondition, table, key)
		}
		res, err = t.tx.ExecContext(ctx, t.s.q.delIfMatch, table, key, rev)
	} else {
		res, err = t.tx.ExecContext(ctx, t.s.q.del, table, key)
	}
	if err != nil {
		return fmt.Errorf("store: delete %s/%s: %w", table, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: delete %s/%s: %w", table, key, err)
	}
	if n == 0 {
		if cond.IfMatch != "" {
			return fmt.Errorf("%w: %s/%s", ErrPrecondition, table, key)
		}
		return fmt.Errorf("%w: %s/%s", ErrNotFound, table, key)
	}
	return nil
}

// Scan implements Tx.
func (t *sqlTx) Scan(ctx context.Context, table string, q Query) (Page, error) {
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
	var b strings.Builder
	b.WriteString("SELECT k, ")
	if q.KeysOnly {
		b.WriteString("NULL")
	} else {
		b.WriteString("v")
	}
	b.WriteString(", rev, created, updated FROM steward_records WHERE tbl = ? AND k >= ? AND k > ?")
	args := []any{table, lo, after}
	if hi != "" {
		b.WriteString(" AND k < ?")
		args = append(args, hi)
	}
	b.WriteString(" ORDER BY k LIMIT ?")
	args = append(args, limit+1)
	rows, err := t.tx.QueryContext(ctx, t.s.dialect.Rebind(b.String()), args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: scan %s: %w", table, err)
	}
	defer rows.Close()
	var page Page
	for rows.Next() {
		if len(page.Records) == limit {
			page.Next = encodeToken(page.Records[limit-1].Key)
			break
		}
		rec := Record{Table: table}
		var rev, created, updated int64
		if err := rows.Scan(&rec.Key, &rec.Value, &rev, &created, &updated); err != nil {
			return Page{}, fmt.Errorf("store: scan %s: %w", table, err)
		}
		if !q.KeysOnly && rec.Value == nil {
			rec.Value = []byte{}
		}
		setMeta(&rec, rev, created, updated)
		page.Records = append(page.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("store: scan %s: %w", table, err)
	}
	return page, nil
}

// pageLimit is the page size of a query: DefaultPageSize for 0, at most
// MaxPageSize.
func pageLimit(q Query) (int, error) {
	switch {
	case q.Limit < 0:
		return 0, fmt.Errorf("%w: negative limit", ErrInvalid)
	case q.Limit == 0:
		return DefaultPageSize, nil
	}
	return min(q.Limit, MaxPageSize), nil
}

// nextRev returns the revision parameter of a write: none on PostgreSQL,
// whose statements draw from a sequence; on SQLite the next number of a
// counter read once per transaction. The single writer (BEGIN IMMEDIATE)
// keeps steward_revision unchanged by others until the commit.
func (t *sqlTx) nextRev(ctx context.Context) ([]any, error) {
	if t.s.dialect != SQLite {
		return nil, nil
	}
	if !t.revLoaded {
		if err := t.tx.QueryRowContext(ctx, `SELECT rev FROM steward_revision WHERE id = 1`).Scan(&t.rev); err != nil {
			return nil, fmt.Errorf("store: revision: %w", err)
		}
		t.revLoaded = true
	}
	t.rev++
	t.revDirty = true
	return []any{t.rev}, nil
}

// flush writes the revision counter back before the commit.
func (t *sqlTx) flush(ctx context.Context) error {
	if !t.revDirty {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE steward_revision SET rev = ? WHERE id = 1`, t.rev); err != nil {
		return fmt.Errorf("store: revision: %w", err)
	}
	return nil
}

func setMeta(rec *Record, rev, created, updated int64) {
	rec.ETag = formatETag(rev)
	rec.Created = time.Unix(0, created).UTC()
	rec.Updated = time.Unix(0, updated).UTC()
}

// formatETag and parseETag map a revision to its etag: "r" and the
// revision in base 36, opaque to callers.
func formatETag(rev int64) string { return "r" + strconv.FormatInt(rev, 36) }

func parseETag(etag string) (int64, bool) {
	s, ok := strings.CutPrefix(etag, "r")
	if !ok {
		return 0, false
	}
	rev, err := strconv.ParseInt(s, 36, 64)
	return rev, err == nil && rev > 0
}
