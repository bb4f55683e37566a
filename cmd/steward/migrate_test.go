package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/server"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

func stepNames(ms []store.MigrationStep) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s/%d", m.Component, m.Version))
	}
	return out
}

// allSteps are the migrations this release knows.
func allSteps() []string {
	var out []string
	for _, set := range server.MigrationSets() {
		for _, m := range set.Migrations {
			out = append(out, fmt.Sprintf("%s/%d", set.Component, m.Version))
		}
	}
	return out
}

// unsetStewardEnv removes the variables that would point migrate elsewhere
// (restored when the test ends).
func unsetStewardEnv(t *testing.T) {
	for _, k := range []string{"STEWARD_STORE", "STEWARD_DATA", "STEWARD_CONFIG"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// steward migrate applies what is pending, --check reports it with exit
// 1, and a database migrated by a newer release is refused by migrate and
// by steward serve, on both backends.
func TestMigrateCommand(t *testing.T) {
	unsetStewardEnv(t)
	for _, b := range storetest.URLBackends {
		t.Run(b.Name, func(t *testing.T) {
			u := b.URL(t)
			type step struct {
				args     []string
				wantCode int
				applied  []string
				pending  []string
				wantText string
			}
			all := allSteps()
			for i, s := range []step{
				{args: []string{"--check"}, wantCode: exitNo, pending: all},
				{args: nil, wantCode: exitOK, applied: all},
				{args: []string{"--check"}, wantCode: exitOK},
				{args: nil, wantCode: exitOK},
				{args: []string{"--check"}, wantText: "Pending", wantCode: exitOK},
			} {
				jsonOut := i < 4
				args := append([]string{"migrate", "--store", u}, s.args...)
				if jsonOut {
					args = append(args, "-o", "json")
				}
				out, err := runCLI(t, args...)
				msg, code := classifyError(err)
				if code != s.wantCode {
					t.Fatalf("steward %s: exit %d (%s), want %d\n%s", strings.Join(args, " "), code, msg, s.wantCode, out)
				}
				if !jsonOut {
					if strings.Contains(out, s.wantText) || !strings.Contains(out, "up to date") {
						t.Errorf("steward %s: table output %q", strings.Join(args, " "), out)
					}
					continue
				}
				var res migrateResult
				if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &res); err != nil {
					t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				if !slices.Equal(stepNames(res.Applied), s.applied) || !slices.Equal(stepNames(res.Pending), s.pending) ||
					res.UpToDate != (len(s.pending) == 0) {
					t.Errorf("steward %s: applied %v pending %v upToDate %v; want applied %v pending %v",
						strings.Join(args, " "), stepNames(res.Applied), stepNames(res.Pending), res.UpToDate, s.applied, s.pending)
				}
			}

			// A newer release records a migration this one does not know.
			ctx := context.Background()
			st, err := store.Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			raw := st.Raw()
			if _, err := raw.Write.ExecContext(ctx, raw.Dialect.Rebind(
				`INSERT INTO steward_migrations (component, version, name, applied) VALUES (?, ?, ?, ?)`),
				"store", 99, "from the future", 1); err != nil {
				t.Fatal(err)
			}
			st.Close()
			for _, args := range [][]string{{"migrate", "--store", u}, {"migrate", "--store", u, "--check"}} {
				_, err := runCLI(t, args...)
				if msg, code := classifyError(err); code != exitNo || !strings.Contains(msg, "store/99 (from the future)") {
					t.Errorf("steward %s on a newer schema: exit %d %q; want 1 naming store/99", strings.Join(args, " "), code, msg)
				}
			}
			cfg := server.DefaultConfig()
			cfg.DataDir = t.TempDir()
			cfg.Listen = "127.0.0.1:0"
			cfg.StoreURL = u
			cfg.RootKeyFile = filepath.Join(t.TempDir(), "root.key")
			s, err := server.Open(ctx, cfg, nil)
			if err == nil {
				s.Close()
			}
			var tooNew *store.SchemaTooNewError
			if !errors.As(err, &tooNew) || !strings.Contains(err.Error(), "newer than this steward knows") {
				t.Errorf("server.Open on a newer schema: %v; want a SchemaTooNewError", err)
			}
			_, err = runCLI(t, "serve", "--store", u, "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--root-key-file", cfg.RootKeyFile)
			if msg, code := classifyError(err); code != exitNo || !strings.Contains(msg, "store/99") {
				t.Errorf("steward serve on a newer schema: exit %d %q; want 1 naming store/99", code, msg)
			}
		})
	}
}

// --check on a SQLite file that does not exist reports everything pending
// and creates nothing.
func TestMigrateCheckCreatesNothing(t *testing.T) {
	unsetStewardEnv(t)
	dir := t.TempDir()
	out, err := runCLI(t, "migrate", "--check", "--data", dir)
	if _, code := classifyError(err); code != exitNo || !strings.Contains(out, "store") {
		t.Errorf("migrate --check on an empty data directory: exit %d, output %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "steward.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("migrate --check created the database: %v", err)
	}
	cfgFile := filepath.Join(t.TempDir(), "steward.yaml")
	if err := os.WriteFile(cfgFile, []byte("data: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "migrate", "--config", cfgFile); err != nil || !strings.Contains(out, "Applied: ") {
		t.Errorf("migrate --config with the data directory in the file: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "steward.db")); err != nil {
		t.Errorf("migrate --config did not migrate the store of the file's data directory: %v", err)
	}
	if _, err := runCLI(t, "migrate", "--store", "mysql://x"); func() int { _, c := classifyError(err); return c }() != exitUsage {
		t.Errorf("migrate with an unknown store scheme: %v; want exit 2", err)
	}
}

// Every component that steward serve migrates is listed in
// server.MigrationSets, or the version check would refuse the next start.
func TestServeMigratesOnlyListedComponents(t *testing.T) {
	_, s := serveCloud(t, serveServices(policyproviderOptions{}, nil)...)
	ctx := context.Background()
	applied, err := store.Applied(ctx, s.Store)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CheckSchema(ctx, s.Store, server.MigrationSets()...); err != nil {
		t.Errorf("a served store records components missing from server.MigrationSets (add them there): %v", err)
	}
	if pending, err := store.Pending(ctx, s.Store, server.MigrationSets()...); err != nil || len(pending) > 0 {
		t.Errorf("after serve started, pending %v (%v); want none; applied %v", stepNames(pending), err, stepNames(applied))
	}
}
