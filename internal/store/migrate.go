package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS steward_migrations (
	component TEXT NOT NULL,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	applied BIGINT NOT NULL,
	PRIMARY KEY (component, version))`

// Migrate implements Store.
func (s *sqlStore) Migrate(ctx context.Context, set MigrationSet) error {
	if set.Component == storeMigrations.Component {
		return fmt.Errorf("%w: migration component %q is reserved", ErrInvalid, set.Component)
	}
	return s.migrate(ctx, set)
}

// migrate applies set; Open uses it for the store's own schema.
func (s *sqlStore) migrate(ctx context.Context, set MigrationSet) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := checkTable(set.Component); err != nil {
		return fmt.Errorf("migration component: %w", err)
	}
	ms := slices.Clone(set.Migrations)
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version < 1 || i > 0 && ms[i-1].Version == m.Version {
			return fmt.Errorf("%w: migration %s/%d: versions must be unique and start at 1", ErrInvalid, set.Component, m.Version)
		}
		if _, ok := m.SQL[s.dialect]; !ok && m.Func == nil {
			return fmt.Errorf("%w: migration %s/%d has no SQL for %s", ErrInvalid, set.Component, m.Version, s.dialect)
		}
	}
	for _, m := range ms {
		if err := s.exec(ctx, func(tx *sql.Tx) error { return s.migrateOne(ctx, tx, set.Component, m) }); err != nil {
			return fmt.Errorf("store: migration %s/%d (%s): %w", set.Component, m.Version, m.Name, err)
		}
	}
	return nil
}

// migrateOne applies m in tx unless it is recorded already. On PostgreSQL
// a transaction-scoped advisory lock serializes migrating processes
// (including the CREATE TABLE IF NOT EXISTS, which races otherwise); on
// SQLite the write transaction's RESERVED lock does.
func (s *sqlStore) migrateOne(ctx context.Context, tx *sql.Tx, component string, m Migration) error {
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, s.schema+"/steward/migrate"); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return err
	}
	var n int
	err := tx.QueryRowContext(ctx, s.dialect.Rebind(`SELECT count(*) FROM steward_migrations WHERE component = ? AND version = ?`),
		component, m.Version).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	for _, stmt := range m.SQL[s.dialect] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if m.Func != nil {
		if err := m.Func(ctx, tx, s.dialect); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, s.dialect.Rebind(`INSERT INTO steward_migrations (component, version, name, applied) VALUES (?, ?, ?, ?)`),
		component, m.Version, m.Name, s.now().UnixNano())
	return err
}

// exec runs fn in a write transaction at the backend's default isolation
// (READ COMMITTED on PostgreSQL), retried on conflicts like Update.
func (s *sqlStore) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.retry(ctx, func() error { return s.execOnce(ctx, fn) })
}

func (s *sqlStore) execOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
