package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// pgMaxConns caps the connection pool of one process.
const pgMaxConns = 16

// openPostgres connects through pgx's database/sql driver. The URL is
// pgx's: any query parameter it does not know, such as search_path, is sent
// as a run-time parameter, which is how a store is put in its own schema.
func openPostgres(ctx context.Context, url string, o options) (Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	db.SetMaxOpenConns(pgMaxConns)
	db.SetMaxIdleConns(pgMaxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	if !schema.Valid {
		db.Close()
		return nil, fmt.Errorf("%w: no schema of the search_path exists", ErrInvalid)
	}
	s := &sqlStore{
		dialect:   Postgres,
		write:     db,
		read:      db,
		schema:    schema.String,
		o:         o,
		q:         newQueries(Postgres),
		retryable: pgConflict,
		locker:    newPgLocker(db, schema.String),
		notify:    newNotifier(),
	}
	s.notify.db, s.notify.pgName = db, pgChannel(schema.String)
	if o.noMigrate {
		return s, nil
	}
	if err := s.migrate(ctx, storeMigrations); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// pgUniqueViolation reports a unique constraint violation (23505).
func pgUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// pgConflict reports serialization failures and deadlocks, which a re-run
// of the transaction may avoid.
func pgConflict(err error) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == "40001" || e.Code == "40P01"
}
