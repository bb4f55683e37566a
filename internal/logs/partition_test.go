package logs

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// partitionQueries are run on the same rows on SQLite (one plain table)
// and PostgreSQL (one partition per day): their answers must be equal.
var partitionQueries = []string{
	"Part_CL | count",
	"Part_CL | summarize n = count(), s = sum(v) by bin(TimeGenerated, 1d) | order by TimeGenerated asc",
	"Part_CL | where TimeGenerated > ago(3d) | summarize count(), min(v), max(v)",
	"Part_CL | where TimeGenerated between (datetime(2026-03-05) .. datetime(2026-03-07)) | order by v asc | take 5",
	"Part_CL | top 3 by TimeGenerated desc | project v",
}

// partitionRows are rows every 6 hours over the 10 days before
// fixedNow, v counting up.
func partitionRows() []kql.Row {
	var rs []kql.Row
	for i := range 40 {
		rs = append(rs, kql.Row{kql.DateTime(Ticks(fixedNow.Add(-time.Duration(i) * 6 * time.Hour))), kql.Long(int64(i))})
	}
	return rs
}

var partitionCols = []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "v", Type: kql.TypeLong}}

// answers runs partitionQueries on s.
func answers(t *testing.T, s *Service) []string {
	t.Helper()
	src := s.Rows.Source(testCustomerID, Window{})
	var out []string
	for _, q := range partitionQueries {
		out = append(out, q+" => "+strings.Join(rowTexts(runQuery(t, src, q)), "; "))
	}
	return out
}

// dayNames are the day partitions of table on st, and whether its default
// partition holds rows.
func dayNames(t *testing.T, s *Service, st store.Store) ([]string, int64) {
	t.Helper()
	ctx := context.Background()
	tab, err := s.Rows.Table(ctx, testCustomerID, "Part_CL")
	if err != nil {
		t.Fatal(err)
	}
	names, err := partitions(ctx, st.Raw().Read, tab.SQLName)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for _, n := range names {
		if strings.HasSuffix(n, "_pdefault") {
			continue
		}
		days = append(days, n[strings.LastIndex(n, "_p")+2:])
	}
	var inDefault int64
	if err := st.Raw().Read.QueryRow("SELECT count(*) FROM " + tab.SQLName + "_pdefault").Scan(&inDefault); err != nil {
		t.Fatal(err)
	}
	return days, inDefault
}

// TestPostgresLogTablesArePartitionedByDay: on PostgreSQL a log table has a
// partition per day of its rows and one for the day after; retention
// drops the partitions wholly before the cutoff; every answer, and the
// number of rows retention removes, is the same as SQLite's.
func TestPostgresLogTablesArePartitionedByDay(t *testing.T) {
	ctx := context.Background()
	pgStore := storetest.Postgres(t)
	pg, lite := newTestService(t, pgStore), newTestService(t, storetest.SQLite(t))
	for _, s := range []*Service{pg, lite} {
		if _, err := s.Rows.DefineTable(ctx, testCustomerID, "Part_CL", partitionCols, 5); err != nil {
			t.Fatal(err)
		}
		if err := s.Rows.Append(ctx, testCustomerID, "Part_CL", partitionCols, partitionRows(), Fixed); err != nil {
			t.Fatal(err)
		}
	}
	days, inDefault := dayNames(t, pg, pgStore)
	want := []string{}
	for d := 10; d >= -1; d-- { // 40 rows 6 h apart back from fixedNow (03-10 12:00) to 02-28 18:00, and tomorrow ahead
		want = append(want, fixedNow.AddDate(0, 0, -d).Format("20060102"))
	}
	if !slices.Equal(days, want) || inDefault != 0 {
		t.Fatalf("partitions %v with %d rows in the default one; want %v and none", days, inDefault, want)
	}
	if a, b := answers(t, pg), answers(t, lite); !slices.Equal(a, b) {
		t.Fatalf("answers differ:\npostgres %q\nsqlite   %q", a, b)
	}

	// Retention of 5 days: the cutoff is 2026-03-05 12:00, so the
	// partitions of 02-28 to 03-04 go, and half of 03-05 is deleted.
	npg, err := pg.PurgeExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nlite, err := lite.PurgeExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if npg != nlite || npg == 0 {
		t.Errorf("retention removed %d rows on PostgreSQL, %d on SQLite", npg, nlite)
	}
	days, _ = dayNames(t, pg, pgStore)
	if want := []string{"20260305", "20260306", "20260307", "20260308", "20260309", "20260310", "20260311"}; !slices.Equal(days, want) {
		t.Errorf("partitions after retention %v; want %v", days, want)
	}
	if a, b := answers(t, pg), answers(t, lite); !slices.Equal(a, b) {
		t.Fatalf("answers after retention differ:\npostgres %q\nsqlite   %q", a, b)
	}

	// A replica that still believes a dropped day's partition exists
	// writes that day's rows to the default partition; the next replica
	// to make the partition moves them in.
	old := kql.Row{kql.DateTime(Ticks(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))), kql.Long(100)}
	tab, err := pg.Rows.Table(ctx, testCustomerID, "Part_CL")
	if err != nil {
		t.Fatal(err)
	}
	pg.Rows.mu.Lock()
	pg.Rows.parts[tab.SQLName][Ticks(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))/ticksPerDay] = true
	pg.Rows.parts[tab.SQLName][Ticks(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))/ticksPerDay] = true
	pg.Rows.mu.Unlock()
	if err := pg.Rows.Append(ctx, testCustomerID, "Part_CL", partitionCols, []kql.Row{old}, Fixed); err != nil {
		t.Fatal(err)
	}
	if _, inDefault := dayNames(t, pg, pgStore); inDefault != 1 {
		t.Fatalf("rows in the default partition: %d; want the one whose partition was dropped", inDefault)
	}
	other := NewRows(pgStore, clock)
	if err := other.Append(ctx, testCustomerID, "Part_CL", partitionCols, []kql.Row{old}, Fixed); err != nil {
		t.Fatal(err)
	}
	days, inDefault = dayNames(t, pg, pgStore)
	if inDefault != 0 || !slices.Contains(days, "20260302") {
		t.Errorf("after another replica made 03-02's partition: %v, %d rows in the default one", days, inDefault)
	}
	src := pg.Rows.Source(testCustomerID, Window{})
	if got := runQuery(t, src, "Part_CL | where v == 100 | count").Rows[0][0].AsInt(); got != 2 {
		t.Errorf("rows of 03-02: %d; want both", got)
	}
}

// TestMigrationPartitionsExistingLogTables: a log table made before
// partitioning (one plain table) becomes a partitioned table with the
// same rows, sequence and indexes when the logs migration runs.
func TestMigrationPartitionsExistingLogTables(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	db := st.Raw().Write
	name := sqlTableName(testCustomerID, "Old_CL")
	day := func(d int, h int) int64 { return Ticks(time.Date(2026, 3, d, h, 0, 0, 0, time.UTC)) }
	for _, q := range []string{
		"CREATE TABLE " + name + " (seq BIGSERIAL PRIMARY KEY, c0 BIGINT, c1 BIGINT)",
		"CREATE INDEX " + name + "_tg ON " + name + " (c0)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i, ts := range []int64{day(1, 1), day(1, 23), day(3, 12)} {
		if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (c0, c1) VALUES ($1, $2)", ts, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Migrate(ctx, Schema()); err != nil {
		t.Fatal(err)
	}
	var kind string
	if err := db.QueryRowContext(ctx, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", name).Scan(&kind); err != nil || kind != "p" {
		t.Fatalf("relkind after the migration: %q %v; want p (partitioned)", kind, err)
	}
	names, err := partitions(ctx, db, name)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{name + "_p20260301", name + "_p20260303", name + "_pdefault"}
	if !slices.Equal(names, want) {
		t.Errorf("partitions %v; want %v", names, want)
	}
	// The sequence goes on where it was.
	if _, err := db.ExecContext(ctx, "INSERT INTO "+name+" (c0, c1) VALUES ($1, 3)", day(3, 13)); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT seq, c0, c1 FROM "+name+" ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int64
	for rows.Next() {
		var seq, c0, c1 int64
		if err := rows.Scan(&seq, &c0, &c1); err != nil {
			t.Fatal(err)
		}
		got = append(got, seq, c1)
	}
	if want := []int64{1, 0, 2, 1, 3, 2, 4, 3}; !slices.Equal(got, want) {
		t.Errorf("(seq, c1) after the migration: %v; want %v", got, want)
	}
	// Running it again changes nothing (it is recorded).
	if err := st.Migrate(ctx, Schema()); err != nil {
		t.Fatal(err)
	}
}
