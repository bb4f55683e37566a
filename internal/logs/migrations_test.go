package logs

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// oldLogTableDDL is a log table as Steward made it before rows kept their
// ingestion time, with one string column (c1): on PostgreSQL partitioned
// by day, with the partition of 2026-03-09 and the default one.
func oldLogTableDDL(d store.Dialect, name string) []string {
	if d == store.Postgres {
		day := Ticks(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)) / ticksPerDay
		return []string{
			"CREATE TABLE " + name + " (seq BIGSERIAL, c0 BIGINT NOT NULL, PRIMARY KEY (seq, c0)) PARTITION BY RANGE (c0)",
			"CREATE TABLE " + name + "_pdefault PARTITION OF " + name + " DEFAULT",
			"CREATE INDEX " + name + "_tg ON " + name + " (c0)",
			"ALTER TABLE " + name + " ADD COLUMN IF NOT EXISTS c1 TEXT NOT NULL DEFAULT ''",
			"CREATE TABLE " + partitionName(name, day) + " PARTITION OF " + name + " FOR VALUES FROM (" +
				itoa(int(day*ticksPerDay)) + ") TO (" + itoa(int((day+1)*ticksPerDay)) + ")",
		}
	}
	return []string{
		"CREATE TABLE " + name + " (seq INTEGER PRIMARY KEY, c0 INTEGER)",
		"CREATE INDEX " + name + "_tg ON " + name + " (c0)",
		"ALTER TABLE " + name + " ADD COLUMN c1 TEXT NOT NULL DEFAULT ''",
	}
}

// TestMigrationAddsIngestionTimeToExistingLogTables: the logs migration
// adds the ingestion-time column to a log table made before it (on
// PostgreSQL a partitioned one, whose partitions all get it); every row
// already stored stays, with a null ingestion_time(), and rows appended
// afterwards (into new day partitions too) get theirs. A table made by
// this version before the migration ran is left as it is.
func TestMigrationAddsIngestionTimeToExistingLogTables(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			db := st.Raw().Write
			clk := &testClock{t: fixedNow}
			rows := NewRows(st, clk.Now)
			name := sqlTableName(testCustomerID, "Old_CL")
			for _, q := range oldLogTableDDL(st.Raw().Dialect, name) {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			ins := st.Raw().Dialect.Rebind("INSERT INTO " + name + " (c0, c1) VALUES (?, ?)")
			for _, r := range []struct {
				at  time.Time
				msg string
			}{{time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC), "before-1"}, {time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC), "before-2"}} {
				if _, err := db.ExecContext(ctx, ins, Ticks(r.at), r.msg); err != nil {
					t.Fatal(err)
				}
			}
			old := &Table{Workspace: strings.ToLower(testCustomerID), Name: "Old_CL", SQLName: name, NextSQL: 2,
				Columns: []Column{{Name: TimeGenerated, Type: kql.TypeDateTime, SQL: "c0"}, {Name: "Msg", Type: kql.TypeString, SQL: "c1"}}}
			if err := st.Update(ctx, func(tx store.Tx) error { return rows.save(ctx, tx, old, "") }); err != nil {
				t.Fatal(err)
			}
			newCols := []kql.Column{{Name: "Msg", Type: kql.TypeString}}
			if err := rows.Append(ctx, testCustomerID, "New_CL", newCols, []kql.Row{{kql.String("made before the migration")}}, Evolve); err != nil {
				t.Fatal(err)
			}

			if err := st.Migrate(ctx, Schema()); err != nil {
				t.Fatal(err)
			}
			query := func(q string) []string {
				t.Helper()
				return rowTexts(runQuery(t, rows.Source(testCustomerID, Window{}), q))
			}
			const oldQuery = "Old_CL | project Msg, TimeGenerated, it = ingestion_time() | order by Msg asc"
			want := []string{"'before-1'|2026-03-09T06:00:00.0000000Z|null", "'before-2'|2026-03-10T06:00:00.0000000Z|null"}
			if got := query(oldQuery); !slices.Equal(got, want) {
				t.Errorf("after the migration:\n got %q\nwant %q", got, want)
			}

			// 12:30: a row of 03-10 (on PostgreSQL its partition is made,
			// taking before-2 out of the default one), then one of 03-08
			// with a new column (a partition made after the column).
			clk.Set(fixedNow.Add(30 * time.Minute))
			cols := []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "Msg", Type: kql.TypeString}}
			after := kql.Row{kql.DateTime(Ticks(time.Date(2026, 3, 10, 11, 0, 0, 0, time.UTC))), kql.String("after-1")}
			if err := rows.Append(ctx, testCustomerID, "Old_CL", cols, []kql.Row{after}, Fixed); err != nil {
				t.Fatal(err)
			}
			clk.Set(fixedNow.Add(40 * time.Minute))
			cols = append(cols, kql.Column{Name: "Extra", Type: kql.TypeLong})
			after2 := kql.Row{kql.DateTime(Ticks(time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC))), kql.String("after-2"), kql.Long(7)}
			if err := rows.Append(ctx, testCustomerID, "Old_CL", cols, []kql.Row{after2}, Evolve); err != nil {
				t.Fatal(err)
			}
			want = append([]string{"'after-1'|2026-03-10T11:00:00.0000000Z|2026-03-10T12:30:00.0000000Z",
				"'after-2'|2026-03-08T01:00:00.0000000Z|2026-03-10T12:40:00.0000000Z"}, want...)
			if got := query(oldQuery); !slices.Equal(got, want) {
				t.Errorf("after appending:\n got %q\nwant %q", got, want)
			}
			if got := query("New_CL | project Msg, ingestion_time()"); !slices.Equal(got, []string{"'made before the migration'|2026-03-10T12:00:00.0000000Z"}) {
				t.Errorf("the table made before the migration: %q", got)
			}

			if st.Raw().Dialect == store.Postgres {
				parts, err := partitions(ctx, db, name)
				if err != nil {
					t.Fatal(err)
				}
				wantParts := []string{name + "_p20260308", name + "_p20260309", name + "_p20260310", name + "_p20260311", name + "_pdefault"}
				if !slices.Equal(parts, wantParts) {
					t.Errorf("partitions %v; want %v", parts, wantParts)
				}
				for _, p := range parts {
					var n int
					if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
						WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`, p, ingestedSQL).Scan(&n); err != nil || n != 1 {
						t.Errorf("partition %s has the column %d times (%v)", p, n, err)
					}
				}
				var inDefault int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+name+"_pdefault").Scan(&inDefault); err != nil || inDefault != 0 {
					t.Errorf("rows left in the default partition: %d %v", inDefault, err)
				}
			}
			// Running it again changes nothing (it is recorded).
			if err := st.Migrate(ctx, Schema()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMigrationAddIngestedColumnIsIdempotent: the step itself skips a
// table that has the column, so a table made by this version (or a step
// run twice) is not altered again.
func TestMigrationAddIngestedColumnIsIdempotent(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			rows := NewRows(st, clock)
			if err := rows.Append(ctx, testCustomerID, "T", partitionCols, partitionRows()[:3], Evolve); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				tx, err := st.Raw().Write.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := addIngestedColumn(ctx, tx, st.Raw().Dialect); err != nil {
					_ = tx.Rollback()
					t.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			got := rowTexts(runQuery(t, rows.Source(testCustomerID, Window{}), "T | summarize count(), countif(ingestion_time() == datetime(2026-03-10 12:00))"))
			if !slices.Equal(got, []string{"3|3"}) {
				t.Errorf("rows and their ingestion times: %q", got)
			}
		})
	}
}

// TestTableAnOlderReleaseMadeAfterTheMigration: in a rolling upgrade a
// replica of the previous release may make a log table after migration 2
// ran, without the ingestion-time column. Queries read its ingestion time
// as null (a filter on it is not pushed into SQL), and the first append
// from this release adds the column.
func TestTableAnOlderReleaseMadeAfterTheMigration(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			if err := st.Migrate(ctx, Schema()); err != nil {
				t.Fatal(err)
			}
			db := st.Raw().Write
			clk := &testClock{t: fixedNow}
			rows := NewRows(st, clk.Now)
			name := sqlTableName(testCustomerID, "Late_CL")
			for _, q := range oldLogTableDDL(st.Raw().Dialect, name) {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ExecContext(ctx, st.Raw().Dialect.Rebind("INSERT INTO "+name+" (c0, c1) VALUES (?, 'old')"),
				Ticks(time.Date(2026, 3, 9, 6, 0, 0, 0, time.UTC))); err != nil {
				t.Fatal(err)
			}
			late := &Table{Workspace: strings.ToLower(testCustomerID), Name: "Late_CL", SQLName: name, NextSQL: 2,
				Columns: []Column{{Name: TimeGenerated, Type: kql.TypeDateTime, SQL: "c0"}, {Name: "Msg", Type: kql.TypeString, SQL: "c1"}}}
			if err := st.Update(ctx, func(tx store.Tx) error { return rows.save(ctx, tx, late, "") }); err != nil {
				t.Fatal(err)
			}
			query := func(q string) []string {
				t.Helper()
				return rowTexts(runQuery(t, rows.Source(testCustomerID, Window{}), q))
			}
			if got := query("Late_CL | project Msg, it = ingestion_time()"); !slices.Equal(got, []string{"'old'|null"}) {
				t.Errorf("before an append: %q", got)
			}
			src := &recordingSource{Source: rows.Source(testCustomerID, Window{})}
			res := runQuery(t, src, "Late_CL | where ingestion_time() < now() | count")
			if got := rowTexts(res); !slices.Equal(got, []string{"0"}) || len(src.reqs[0].Filters) != 0 {
				t.Errorf("filter before an append: %q, pushed %v", got, src.reqs[0].Filters)
			}
			cols := []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "Msg", Type: kql.TypeString}}
			row := kql.Row{kql.DateTime(Ticks(time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC))), kql.String("new")}
			if err := rows.Append(ctx, testCustomerID, "Late_CL", cols, []kql.Row{row}, Fixed); err != nil {
				t.Fatal(err)
			}
			want := []string{"'new'|2026-03-10T12:00:00.0000000Z", "'old'|null"}
			if got := query("Late_CL | project Msg, it = ingestion_time() | order by Msg asc"); !slices.Equal(got, want) {
				t.Errorf("after an append: %q; want %q", got, want)
			}
			// another replica, which has not appended, reads it too
			other := NewRows(st, clk.Now)
			if got := rowTexts(runQuery(t, other.Source(testCustomerID, Window{}), "Late_CL | where ingestion_time() > ago(1h) | project Msg")); !slices.Equal(got, []string{"'new'"}) {
				t.Errorf("another replica: %q", got)
			}
		})
	}
}
