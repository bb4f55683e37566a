package store

import (
	"context"
	"database/sql"
)

// MigrationSet is the versioned schema of one component (the store itself,
// the logs engine, ...). Components are independent: each has its own
// version sequence in the steward_migrations table.
type MigrationSet struct {
	// Component names the owner, such as "logs"; 1 to 64 of [a-z0-9_.-].
	// "store" is reserved for the store's own schema.
	Component string
	// Migrations are applied in ascending Version order; versions start at 1,
	// are unique, and a released migration never changes.
	Migrations []Migration
}

// Migration is one schema step.
type Migration struct {
	// Version orders the migrations of a set.
	Version int
	// Name says what the step does, for the record.
	Name string
	// SQL is the statement list per dialect, run in order. A dialect
	// missing here makes Migrate fail on that backend, unless Func is set.
	SQL map[Dialect][]string
	// Func, when set, runs after SQL in the same transaction, for steps that
	// need code (such as rewriting data).
	Func func(ctx context.Context, tx *sql.Tx, d Dialect) error
}
