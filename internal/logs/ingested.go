package logs

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/steward-gov/steward/internal/store"
)

// A log table gets the ingestion-time column (ingestedSQL) when it is made,
// and migration 2 adds it to the tables made before. One case is left: in
// a rolling upgrade on PostgreSQL, a replica of the previous release may
// make a table after the migration ran, without the column. So the first
// append to a table in this process checks the column and adds it when it
// is missing, and a scan of such a table reads the ingestion time as null
// until then. The tables known to have it are cached (ingested).

// rowQueryer is what hasIngested reads the catalog with: a pool or a
// transaction.
type rowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// hasIngested reports whether the SQL table name has the ingestion-time
// column.
func hasIngested(ctx context.Context, q rowQueryer, d store.Dialect, name string) (bool, error) {
	query := `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`
	if d == store.Postgres {
		query = `SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`
	}
	var n int
	if err := q.QueryRowContext(ctx, query, name, ingestedSQL).Scan(&n); err != nil {
		return false, fmt.Errorf("columns of %s: %w", name, err)
	}
	return n > 0, nil
}

// addIngested adds the ingestion-time column to the SQL table name (on
// PostgreSQL IF NOT EXISTS, for two replicas adding it at once; SQLite has
// one writer, and the caller checked in the same transaction).
func addIngested(ctx context.Context, tx *sql.Tx, d store.Dialect, name string) error {
	stmt := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s INTEGER", name, ingestedSQL)
	if d == store.Postgres {
		stmt = fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s BIGINT", name, ingestedSQL)
	}
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("adding %s to %s: %w", ingestedSQL, name, err)
	}
	return nil
}

// knownIngested reports whether this process knows that the SQL table
// name has the ingestion-time column.
func (r *Rows) knownIngested(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ingested[name]
}

// markIngested records that the SQL table name has the column.
func (r *Rows) markIngested(name string) {
	r.mu.Lock()
	r.ingested[name] = true
	r.mu.Unlock()
}

// ensureIngested makes sure, in the append transaction tx, that the SQL
// table name has the ingestion-time column; the caller marks it known once
// the transaction commits.
func (r *Rows) ensureIngested(ctx context.Context, tx *sql.Tx, name string) error {
	if r.knownIngested(name) {
		return nil
	}
	has, err := hasIngested(ctx, tx, r.raw.Dialect, name)
	if err != nil || has {
		return err
	}
	return addIngested(ctx, tx, r.raw.Dialect, name)
}

// scanIngested reports whether a scan of the SQL table name can read the
// ingestion-time column (false: the table predates it and has had no
// append from this version yet, so the scan reads null).
func (r *Rows) scanIngested(ctx context.Context, name string) (bool, error) {
	if r.knownIngested(name) {
		return true, nil
	}
	has, err := hasIngested(ctx, r.raw.Read, r.raw.Dialect, name)
	if err != nil {
		return false, err
	}
	if has {
		r.markIngested(name)
	}
	return has, nil
}
