package logs

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// On PostgreSQL a log table is partitioned by range of TimeGenerated (c0,
// in ticks): one partition per UTC day, named <table>_pYYYYMMDD, and a
// default partition (<table>_pdefault) for rows whose day has none yet.
// Appending rows makes the partitions of their days and of the day after
// (so that midnight finds its partition ready), moving any rows of those
// days out of the default partition. Retention drops the partitions that
// lie wholly before the cutoff instead of deleting their rows. Queries
// read the parent table and are unchanged; PostgreSQL skips the
// partitions a TimeGenerated condition excludes. SQLite tables are not
// partitioned.

// ticksPerDay is a day in datetime ticks (100 ns). Tick 0 is midnight UTC,
// so a day's partition holds ticks [day*ticksPerDay, (day+1)*ticksPerDay).
const ticksPerDay = int64(24 * time.Hour / 100)

func (r *Rows) partitioned() bool { return r.raw.Dialect == store.Postgres }

// partitionName is the partition of the given day (in days since tick 0)
// of the SQL table parent.
func partitionName(parent string, day int64) string {
	return parent + "_p" + TimeOf(day*ticksPerDay).Format("20060102")
}

// partitionDay parses a partition's name back to its day.
var partitionRE = regexp.MustCompile(`_p(\d{8})$`)

func partitionDay(name string) (int64, bool) {
	m := partitionRE.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	t, err := time.Parse("20060102", m[1])
	if err != nil {
		return 0, false
	}
	return Ticks(t) / ticksPerDay, true
}

// createPartitionedTable is the DDL of a new log table on PostgreSQL,
// before its columns other than TimeGenerated are added.
func createPartitionedTable(name string) []string {
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (seq BIGSERIAL, c0 BIGINT NOT NULL, %s BIGINT, PRIMARY KEY (seq, c0)) PARTITION BY RANGE (c0)", name, ingestedSQL),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s_pdefault PARTITION OF %s DEFAULT", name, name),
	}
}

// ensurePartitions makes, for the table t, the partitions of days and of
// the day after each that this replica does not know to exist.
func (r *Rows) ensurePartitions(ctx context.Context, t *Table, days map[int64]bool) error {
	if !r.partitioned() || len(days) == 0 {
		return nil
	}
	r.mu.Lock()
	known := r.parts[t.SQLName]
	var missing []int64
	for d := range days {
		for _, day := range []int64{d, d + 1} {
			if !known[day] && !slices.Contains(missing, day) {
				missing = append(missing, day)
			}
		}
	}
	r.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	unlock, err := r.lockTable(ctx, t.Workspace, t.Name)
	if err != nil {
		return err
	}
	defer unlock()
	for _, day := range missing {
		if err := r.createPartition(ctx, t.SQLName, day); err != nil {
			return fmt.Errorf("partition %s of %s: %w", partitionName(t.SQLName, day), t.Name, err)
		}
		r.mu.Lock()
		if r.parts[t.SQLName] == nil {
			r.parts[t.SQLName] = map[int64]bool{}
		}
		r.parts[t.SQLName][day] = true
		r.mu.Unlock()
	}
	return nil
}

// createPartition makes the partition of day, unless it exists, in one
// transaction: the rows of that day in the default partition (written
// while the day had no partition) move into it before it is attached.
// The caller holds the table's lock.
func (r *Rows) createPartition(ctx context.Context, parent string, day int64) error {
	name := partitionName(parent, day)
	lo, hi := day*ticksPerDay, (day+1)*ticksPerDay
	tx, err := r.raw.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var exists bool
	if err := tx.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return tx.Commit()
	}
	for _, stmt := range []string{
		fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS)", name, parent),
		fmt.Sprintf("WITH moved AS (DELETE FROM %s_pdefault WHERE c0 >= %d AND c0 < %d RETURNING *) INSERT INTO %s SELECT * FROM moved", parent, lo, hi, name),
		fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)", parent, name, lo, hi),
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// dropPartitions drops the day partitions of t that end at or before
// cutoff (in ticks) and returns how many rows they held.
func (r *Rows) dropPartitions(ctx context.Context, t *Table, cutoff int64) (int64, error) {
	unlock, err := r.lockTable(ctx, t.Workspace, t.Name)
	if err != nil {
		return 0, err
	}
	defer unlock()
	names, err := partitions(ctx, r.raw.Write, t.SQLName)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, name := range names {
		day, ok := partitionDay(name)
		if !ok || (day+1)*ticksPerDay > cutoff {
			continue
		}
		var n int64
		if err := r.raw.Write.QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
			return total, err
		}
		if _, err := r.raw.Write.ExecContext(ctx, "DROP TABLE "+name); err != nil {
			return total, err
		}
		total += n
		r.mu.Lock()
		delete(r.parts[t.SQLName], day)
		r.mu.Unlock()
	}
	return total, nil
}

// queryer is what partitions reads with: a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// partitions lists the partitions of the SQL table parent.
func partitions(ctx context.Context, q queryer, parent string) ([]string, error) {
	return scanAll[string](q.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1) ORDER BY c.relname`, parent))
}

// scanAll reads the one column of every row of a query's result.
func scanAll[T any](rows *sql.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// partitionExisting converts every plain log table of the current schema
// into a partitioned one with the same name, columns and rows.
func partitionExisting(ctx context.Context, tx *sql.Tx) error {
	tables, err := scanAll[string](tx.QueryContext(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r' AND NOT c.relispartition
		AND c.relname ~ '^logs_[a-z0-9_]*_[0-9a-f]{12}$' ORDER BY c.relname`))
	if err != nil {
		return err
	}
	for _, name := range tables {
		if err := partitionTable(ctx, tx, name); err != nil {
			return fmt.Errorf("partitioning %s: %w", name, err)
		}
	}
	return nil
}

func partitionTable(ctx context.Context, tx *sql.Tx, name string) error {
	old := name + "_old"
	var seq sql.NullString
	if err := tx.QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1, 'seq')", name).Scan(&seq); err != nil {
		return err
	}
	stmts := []string{
		fmt.Sprintf("ALTER TABLE %s RENAME TO %s", name, old),
		fmt.Sprintf("ALTER INDEX IF EXISTS %s_tg RENAME TO %s_tg", name, old),
		fmt.Sprintf("ALTER INDEX IF EXISTS %s_pkey RENAME TO %s_pkey", name, old),
		fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS) PARTITION BY RANGE (c0)", name, old),
		fmt.Sprintf("ALTER TABLE %s ADD PRIMARY KEY (seq, c0)", name),
		fmt.Sprintf("CREATE INDEX %s_tg ON %s (c0)", name, name),
		fmt.Sprintf("CREATE TABLE %s_pdefault PARTITION OF %s DEFAULT", name, name),
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	days, err := scanAll[int64](tx.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT c0 / %d FROM %s WHERE c0 IS NOT NULL", ticksPerDay, old)))
	if err != nil {
		return err
	}
	for _, d := range days {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%d) TO (%d)",
			partitionName(name, d), name, d*ticksPerDay, (d+1)*ticksPerDay)); err != nil {
			return err
		}
	}
	// A row without TimeGenerated (never written since ingestion sets it)
	// fails the migration rather than being left behind.
	stmts = []string{fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", name, old)}
	if seq.Valid {
		stmts = append(stmts, fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.seq", seq.String, name))
	}
	stmts = append(stmts, "DROP TABLE "+old)
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
