package logs

import (
	"context"
	"database/sql"
	"regexp"

	"github.com/steward-gov/steward/internal/store"
)

// Schema is the logs engine's migration set, run in one transaction per
// migration (steward migrate, or serve at start):
//
//   - Version 1 partitions, on PostgreSQL, the log tables made before
//     tables were partitioned: each becomes a partitioned table with a
//     partition per day its rows cover.
//   - Version 2 adds the ingestion-time column (ingestedSQL) to the log
//     tables made before rows kept it; their rows keep every value and
//     read back a null ingestion time.
func Schema() store.MigrationSet {
	return store.MigrationSet{Component: "logs", Migrations: []store.Migration{{
		Version: 1,
		Name:    "partition log tables by day (PostgreSQL)",
		Func: func(ctx context.Context, tx *sql.Tx, d store.Dialect) error {
			if d != store.Postgres {
				return nil
			}
			return partitionExisting(ctx, tx)
		},
	}, {
		Version: 2,
		Name:    "keep each log row's ingestion time",
		Func:    addIngestedColumn,
	}}}
}

// logTableRE matches the SQL names sqlTableName makes; partitions
// (<table>_pYYYYMMDD, <table>_pdefault) do not match.
var logTableRE = regexp.MustCompile(`^logs_[a-z0-9_]*_[0-9a-f]{12}$`)

// addIngestedColumn adds the nullable ingestion-time column to every log
// table that lacks it. On PostgreSQL the column is added to the parent of
// a partitioned table, which adds it to every partition (the default one
// included); without a default value neither backend rewrites the rows.
func addIngestedColumn(ctx context.Context, tx *sql.Tx, d store.Dialect) error {
	var list string
	if d == store.Postgres {
		list = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`
	} else {
		list = `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	}
	names, err := scanAll[string](tx.QueryContext(ctx, list))
	if err != nil {
		return err
	}
	for _, name := range names {
		if !logTableRE.MatchString(name) {
			continue
		}
		has, err := hasIngested(ctx, tx, d, name)
		if err != nil {
			return err
		}
		if has {
			continue // made by this version already
		}
		if err := addIngested(ctx, tx, d, name); err != nil {
			return err
		}
	}
	return nil
}
