package logs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// recordingSource remembers the scans the planner asks of the SQL source.
type recordingSource struct {
	*Source
	reqs []kql.ScanRequest
}

func (r *recordingSource) Scan(ctx context.Context, req kql.ScanRequest) (kql.RowIter, error) {
	r.reqs = append(r.reqs, req)
	return r.Source.Scan(ctx, req)
}

// plainSource hides Orderer: the in-memory reference pushes no order.
type plainSource struct{ kql.Source }

// orderQueries are tops and sort-takes over every column type of
// sampleTable (nulls, ties, mixed case, an empty string, non-ASCII), with
// whether the order reaches SQL.
var orderQueries = []struct {
	q    string
	push bool
}{
	{"T | top 5 by TimeGenerated", true},
	{"T | top 5 by TimeGenerated asc", true},
	{"T | top 9 by Name asc", true},
	{"T | top 9 by Name desc", true},
	{"T | top 12 by Count", true},
	{"T | top 12 by Count asc", true},
	{"T | top 12 by Count desc nulls first", true},
	{"T | top 12 by Count asc nulls last", true},
	{"T | top 7 by Score asc", true},
	{"T | top 7 by Score desc nulls first", true},
	{"T | top 6 by Ok", true},
	{"T | top 6 by Ok asc", true},
	{"T | top 10 by Id asc", true},
	{"T | top 10 by Id desc nulls first", true},
	{"T | top 4 by Span", true},
	{"T | top 11 by Small asc", true},
	{"T | sort by Count asc, Name desc | take 15", true},
	{"T | order by Small desc, Ok asc nulls last, Id | take 13 | project Small, Ok, Id", true},
	{"T | where Count > 1 and Name != 'beta' | top 5 by Name asc", true},
	{"T | sort by Name asc | take 100", true},
	{"T | top 5 by Props", false},
	{"T | top 5 by strlen(Name)", false},
	{"T | where strlen(Name) > 4 | top 3 by Count", false},
	{"T | sort by Count | take 3 | count", true},
}

func TestSourceOrderMatchesInMemoryEngine(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			rows, cols, data := loadSample(t, b.open(t))
			if rows.raw.Dialect == store.Postgres {
				linguisticCollation(t, rows, "T", "Name", "Id")
			}
			mem := plainSource{&kql.MemSource{Tables: map[string]*kql.MemTable{"T": {Columns: cols, Rows: data}}}}
			for _, tc := range orderQueries {
				src := &recordingSource{Source: rows.Source("ws1", Window{})}
				got := rowTexts(runQuery(t, src, tc.q))
				want := rowTexts(runQuery(t, mem, tc.q))
				if !slices.Equal(got, want) {
					t.Errorf("%s: rows differ, in order; first difference: %s", tc.q, firstDiff(got, want))
				}
				if pushed := len(src.reqs) == 1 && len(src.reqs[0].Order) > 0; pushed != tc.push {
					t.Errorf("%s: order pushed to SQL = %v, want %v", tc.q, pushed, tc.push)
				}
			}
		})
	}
}

func TestSourceOrdersNaNWithTheNulls(t *testing.T) {
	cols := []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "id", Type: kql.TypeLong}, {Name: "x", Type: kql.TypeReal}}
	tg := kql.DateTime(Ticks(fixedNow))
	data := []kql.Row{
		{tg, kql.Long(1), kql.Real(2)}, {tg, kql.Long(2), kql.Null(kql.TypeReal)}, {tg, kql.Long(3), kql.Real(math.Inf(-1))},
		{tg, kql.Long(4), kql.Real(math.NaN())}, {tg, kql.Long(5), kql.Real(2)}, {tg, kql.Long(6), kql.Real(math.Inf(1))},
	}
	mem := plainSource{&kql.MemSource{Tables: map[string]*kql.MemTable{"T": {Columns: cols, Rows: data}}}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			rows := NewRows(b.open(t), clock)
			if _, err := rows.DefineTable(ctx, "ws1", "T", cols, 0); err != nil {
				t.Fatal(err)
			}
			if err := rows.Append(ctx, "ws1", "T", cols, data, Fixed); err != nil {
				t.Fatal(err)
			}
			src := rows.Source("ws1", Window{})
			// Only id is compared: SQLite stores NaN as NULL, so x itself
			// reads back differently, but both sort with the nulls.
			for _, q := range []string{
				"T | top 4 by x | project id", "T | top 4 by x asc | project id",
				"T | top 3 by x desc nulls first | project id", "T | top 3 by x asc nulls last | project id",
			} {
				got, want := rowTexts(runQuery(t, src, q)), rowTexts(runQuery(t, mem, q))
				if !slices.Equal(got, want) {
					t.Errorf("%s: ids %v, want %v", q, got, want)
				}
			}
		})
	}
}

// linguisticCollation gives text columns of a PostgreSQL table ICU's root
// collation, under which "alpha" sorts before "Beta" (kql, by bytes, puts
// it after): the order pushed to SQL must not depend on the database's
// collation, which the test server's (C) would hide.
func linguisticCollation(t *testing.T, rows *Rows, table string, columns ...string) {
	t.Helper()
	ctx := context.Background()
	tb, err := rows.Table(ctx, "ws1", table)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range columns {
		c := tb.column(name)
		if c == nil {
			t.Fatalf("no column %s", name)
		}
		q := fmt.Sprintf(`ALTER TABLE %s ALTER COLUMN %s TYPE TEXT COLLATE "und-x-icu"`, tb.SQLName, c.SQL)
		if _, err := rows.raw.Write.ExecContext(ctx, q); err != nil {
			t.Skipf("PostgreSQL without ICU collations: %v", err)
		}
	}
}
