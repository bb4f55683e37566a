package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/steward-gov/steward/internal/cliout"
	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's schema migrations (or check for pending ones)",
		Long: `migrate applies to the store every schema migration this release of steward
knows and the database has not recorded yet, and lists what it applied.
steward serve applies them at start too; run migrate ahead of a rolling
upgrade so that no replica migrates while serving. Several processes may
migrate at once: they take turns on a lock.

With --check nothing is changed: migrate lists the pending migrations and
exits 1 when there are any.

A database that records migrations this release does not know was migrated
by a newer release: migrate (and steward serve) refuse it, exit 1.`,
		Example: `  steward migrate --data ./steward-data --check
  steward migrate --store 'postgres://steward@db.internal:5432/steward?sslmode=verify-full'`,
		Args: cobra.NoArgs,
		RunE: runMigrate,
	}
	f := cmd.Flags()
	f.String("config", "", "steward serve's YAML config file, for its store and data settings (also STEWARD_CONFIG)")
	f.String("store", "", "store URL: sqlite:PATH or postgres://... (also STEWARD_STORE; default SQLite in the data directory)")
	f.String("data", "", "data directory whose SQLite store is migrated when no store URL is given (also STEWARD_DATA)")
	f.Bool("check", false, "change nothing; list pending migrations and exit 1 when there are any")
	return cmd
}

// migrateResult is migrate's JSON output.
type migrateResult struct {
	Applied  []store.MigrationStep `json:"applied,omitempty"`
	Pending  []store.MigrationStep `json:"pending,omitempty"`
	UpToDate bool                  `json:"upToDate"`
}

func runMigrate(cmd *cobra.Command, _ []string) error {
	format, err := outputFormat(cmd)
	if err != nil {
		return err
	}
	cfg := server.DefaultConfig()
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = os.Getenv("STEWARD_CONFIG")
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			return usageError("%v", err)
		}
	}
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return usageError("%v", err)
	}
	if cmd.Flags().Changed("data") {
		cfg.DataDir, _ = cmd.Flags().GetString("data")
	}
	if u, _ := cmd.Flags().GetString("store"); u != "" {
		cfg.StoreURL = u
	}
	if err := cfg.Validate(); err != nil {
		return usageError("%v", err)
	}
	check, _ := cmd.Flags().GetBool("check")
	sets := server.MigrationSets()
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}

	var res migrateResult
	if check && missingSQLite(cfg.Store()) {
		// Nothing to inspect, and a check must not create the file.
		for _, set := range sets {
			for _, m := range set.Migrations {
				res.Pending = append(res.Pending, store.MigrationStep{Component: set.Component, Version: m.Version, Name: m.Name})
			}
		}
	} else {
		pending, err := inspectSchema(ctx, cfg.Store(), sets)
		if err != nil {
			return err
		}
		if check {
			res.Pending = pending
		} else if len(pending) > 0 {
			if err := applyMigrations(ctx, cfg.Store(), sets); err != nil {
				return err
			}
			res.Applied = pending
		}
	}
	res.UpToDate = len(res.Pending) == 0
	if err := writeMigrateResult(cmd, format, res); err != nil {
		return err
	}
	if !res.UpToDate {
		return &exitError{code: exitNo, msg: fmt.Sprintf("%d migration(s) pending: run `steward migrate` (without --check) to apply them", len(res.Pending))}
	}
	return nil
}

// missingSQLite reports whether url names a SQLite file that does not exist.
func missingSQLite(url string) bool {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok {
		return false
	}
	path = strings.TrimPrefix(path, "//")
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

// inspectSchema opens the store without migrating it, refuses a schema
// newer than this release, and returns the pending migrations.
func inspectSchema(ctx context.Context, url string, sets []store.MigrationSet) ([]store.MigrationStep, error) {
	st, err := openStore(ctx, url, store.WithoutMigrations())
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := store.CheckSchema(ctx, st, sets...); err != nil {
		var tooNew *store.SchemaTooNewError
		if errors.As(err, &tooNew) {
			return nil, &exitError{code: exitNo, msg: "error: " + err.Error()}
		}
		return nil, err
	}
	return store.Pending(ctx, st, sets...)
}

// applyMigrations opens the store, which applies the store's own schema,
// then applies every component's.
func applyMigrations(ctx context.Context, url string, sets []store.MigrationSet) error {
	st, err := openStore(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, set := range sets {
		if set.Component == store.Schema().Component {
			continue // Open applied it
		}
		if err := st.Migrate(ctx, set); err != nil {
			return err
		}
	}
	return nil
}

// openStore opens url, rendering failures: a URL that cannot be used is a
// usage error, a database that cannot be reached exits 3.
func openStore(ctx context.Context, url string, opts ...store.Option) (store.Store, error) {
	st, err := store.Open(ctx, url, opts...)
	switch {
	case errors.Is(err, store.ErrInvalid):
		return nil, usageError("%v", err)
	case err != nil:
		return nil, &exitError{code: exitUnreachable, msg: "error: cannot open the store: " + err.Error()}
	}
	return st, nil
}

func writeMigrateResult(cmd *cobra.Command, format cliout.Format, res migrateResult) error {
	if format == cliout.JSON {
		return cliout.WriteJSON(cmd.OutOrStdout(), res)
	}
	list, verb := res.Applied, "Applied"
	if res.Pending != nil {
		list, verb = res.Pending, "Pending"
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), "The schema is up to date.")
		return err
	}
	rows := make([][]string, 0, len(list))
	for _, m := range list {
		rows = append(rows, []string{m.Component, strconv.Itoa(m.Version), m.Name})
	}
	if err := cliout.WriteTable(cmd.OutOrStdout(), []string{"COMPONENT", "VERSION", "NAME"}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s: %d migration(s).\n", verb, len(list))
	return err
}
