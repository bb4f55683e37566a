package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Schema returns the store's own migration set (component "store"), which
// Open applies. It is exported so that tools listing every component's
// migrations (steward migrate) can report it with the others.
func Schema() MigrationSet {
	return MigrationSet{Component: storeMigrations.Component, Migrations: slices.Clone(storeMigrations.Migrations)}
}

// WithoutMigrations makes Open leave the database as it finds it: the
// store's own schema is not applied. It is for inspecting a database
// (Applied, Pending, CheckSchema) without changing it; record operations
// fail on a database whose schema was never applied.
func WithoutMigrations() Option { return func(o *options) { o.noMigrate = true } }

// MigrationStep names one migration of one component.
type MigrationStep struct {
	Component string `json:"component"`
	Version   int    `json:"version"`
	Name      string `json:"name"`
	// Applied is when the step was recorded; zero for a pending step.
	Applied time.Time `json:"applied,omitzero"`
}

// Applied lists the migrations recorded in the database's
// steward_migrations table, by component then version. A database that no
// Steward has migrated has none.
func Applied(ctx context.Context, s Store) ([]MigrationStep, error) {
	raw := s.Raw()
	var exists int
	var err error
	switch raw.Dialect {
	case Postgres:
		err = raw.Read.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
			WHERE table_schema = $1 AND table_name = 'steward_migrations'`, raw.Schema).Scan(&exists)
	default:
		err = raw.Read.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
			WHERE type = 'table' AND name = 'steward_migrations'`).Scan(&exists)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading the schema version: %w", err)
	}
	if exists == 0 {
		return nil, nil
	}
	rows, err := raw.Read.QueryContext(ctx, `SELECT component, version, name, applied FROM steward_migrations ORDER BY component, version`)
	if err != nil {
		return nil, fmt.Errorf("store: reading the schema version: %w", err)
	}
	defer rows.Close()
	var out []MigrationStep
	for rows.Next() {
		var m MigrationStep
		var applied int64
		if err := rows.Scan(&m.Component, &m.Version, &m.Name, &applied); err != nil {
			return nil, fmt.Errorf("store: reading the schema version: %w", err)
		}
		m.Applied = time.Unix(0, applied).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading the schema version: %w", err)
	}
	return out, nil
}

// Pending returns the migrations of sets that the database has not
// recorded, in the order Migrate applies them (the sets' order, then
// version).
func Pending(ctx context.Context, s Store, sets ...MigrationSet) ([]MigrationStep, error) {
	applied, err := Applied(ctx, s)
	if err != nil {
		return nil, err
	}
	type step struct {
		component string
		version   int
	}
	done := make(map[step]bool, len(applied))
	for _, m := range applied {
		done[step{m.Component, m.Version}] = true
	}
	var out []MigrationStep
	for _, set := range sets {
		ms := slices.Clone(set.Migrations)
		slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
		for _, m := range ms {
			if !done[step{set.Component, m.Version}] {
				out = append(out, MigrationStep{Component: set.Component, Version: m.Version, Name: m.Name})
			}
		}
	}
	return out, nil
}

// SchemaTooNewError is CheckSchema's error: the database has migrations
// recorded that this program does not know, so a newer release migrated
// it, and this one could misread or damage its data.
type SchemaTooNewError struct {
	// Unknown are the recorded steps this program does not know.
	Unknown []MigrationStep
}

// Error names the unknown steps and what to do.
func (e *SchemaTooNewError) Error() string {
	names := make([]string, 0, len(e.Unknown))
	for _, m := range e.Unknown {
		names = append(names, fmt.Sprintf("%s/%d (%s)", m.Component, m.Version, m.Name))
	}
	return fmt.Sprintf("the database schema is newer than this steward knows: it has migration(s) %s, applied by a newer release. "+
		"Run the release that migrated the database, or a newer one; older releases refuse to start on it", strings.Join(names, ", "))
}

// CheckSchema returns a *SchemaTooNewError when the database records a
// migration that none of sets declares (a newer version of a known
// component, or a component unknown here).
func CheckSchema(ctx context.Context, s Store, sets ...MigrationSet) error {
	applied, err := Applied(ctx, s)
	if err != nil {
		return err
	}
	known := map[string]map[int]bool{}
	for _, set := range sets {
		known[set.Component] = map[int]bool{}
		for _, m := range set.Migrations {
			known[set.Component][m.Version] = true
		}
	}
	var unknown []MigrationStep
	for _, m := range applied {
		if !known[m.Component][m.Version] {
			unknown = append(unknown, m)
		}
	}
	if len(unknown) > 0 {
		return &SchemaTooNewError{Unknown: unknown}
	}
	return nil
}
