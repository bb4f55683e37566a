package logs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
)

// sampleTable builds rows covering every column type, nulls and mixed case.
func sampleTable() ([]kql.Column, []kql.Row) {
	cols := []kql.Column{
		{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "Name", Type: kql.TypeString},
		{Name: "Count", Type: kql.TypeLong}, {Name: "Score", Type: kql.TypeReal}, {Name: "Ok", Type: kql.TypeBool},
		{Name: "Id", Type: kql.TypeGuid}, {Name: "Span", Type: kql.TypeTimeSpan}, {Name: "Props", Type: kql.TypeDynamic},
		{Name: "Small", Type: kql.TypeInt},
	}
	names := []string{"alpha", "Beta", "GAMMA", "delta-x", "", "épsilon", "Alphabet", "beta"}
	var rows []kql.Row
	for i := range 40 {
		tg := kql.DateTime(Ticks(fixedNow.Add(-time.Duration(i) * time.Hour)))
		bag := kql.NewBag()
		bag.Set("k", int64(i))
		bag.Set("tags", []any{"a", fmt.Sprint(i % 3)})
		row := kql.Row{tg, kql.String(names[i%len(names)]), kql.Long(int64(i % 7)), kql.Real(float64(i) / 4),
			kql.Bool(i%2 == 0), kql.Guid(fmt.Sprintf("00000000-0000-0000-0000-%012d", i%5)),
			kql.TimeSpan(int64(i) * 10_000_000), kql.Dynamic(bag), kql.Int(int64(i % 4))}
		if i%9 == 0 {
			row[2], row[3], row[4], row[5], row[7] = kql.Null(kql.TypeLong), kql.Null(kql.TypeReal),
				kql.Null(kql.TypeBool), kql.Null(kql.TypeGuid), kql.Null(kql.TypeDynamic)
		}
		rows = append(rows, row)
	}
	return cols, rows
}

// loadSample defines table T of workspace ws1 in st with sampleTable's
// columns and appends its rows.
func loadSample(t *testing.T, st store.Store) (*Rows, []kql.Column, []kql.Row) {
	t.Helper()
	ctx := context.Background()
	rows := NewRows(st, clock)
	cols, data := sampleTable()
	if _, err := rows.DefineTable(ctx, "ws1", "T", cols, 0); err != nil {
		t.Fatal(err)
	}
	if err := rows.Append(ctx, "ws1", "T", cols, data, Fixed); err != nil {
		t.Fatal(err)
	}
	return rows, cols, data
}

// pushdownQueries exercise every filter form the SQL source translates, and
// some it must leave to the planner.
var pushdownQueries = []string{
	"T",
	"T | where Count == 3",
	"T | where Count != 3",
	"T | where Count > 2 and Score <= 5.5",
	"T | where Score between (1.0 .. 3.5)",
	"T | where Count in (1, 2) | project Name, Count",
	"T | where Count !in (1, 2)",
	"T | where Ok == true",
	"T | where Ok != false",
	"T | where Name == 'beta'",
	"T | where Name != 'beta'",
	"T | where Name =~ 'BETA'",
	"T | where Name !~ 'beta'",
	"T | where Name contains 'ALP'",
	"T | where Name !contains 'alp'",
	"T | where Name contains_cs 'Alp'",
	"T | where Name startswith 'al'",
	"T | where Name endswith 'TA'",
	"T | where Name !endswith 'ta'",
	"T | where Name startswith_cs 'G'",
	"T | where Name has 'beta'",
	"T | where Name in ('alpha', 'GAMMA')",
	"T | where Name contains 'psi'",
	"T | where Name =~ 'ÉPSILON'",
	"T | where Id == guid(00000000-0000-0000-0000-000000000002)",
	"T | where Id != guid(00000000-0000-0000-0000-000000000002)",
	"T | where Span > 10s",
	"T | where TimeGenerated > datetime(2026-03-09T12:00:00Z)",
	"T | where TimeGenerated between (datetime(2026-03-09) .. datetime(2026-03-10))",
	"T | where Small == 2 | project Small, Name",
	"T | where Count == 2.0",
	"T | where Score > 3",
	"T | where Props.k > 10",
	"T | take 5 | count",
	"T | where Count == 1 | take 2 | count",
	"T | summarize arg_max(TimeGenerated, *) by Name | project Name, Count, Score, Ok, Id, Props",
	"T | summarize count(), sum(Score), dcount(Id) by Ok",
	"T | where isnull(Count) | project Name",
	"T | where isempty(Name) | count",
	"T | extend n = strlen(Name) | where n > 4 | project Name, n",
}

func TestSourceMatchesInMemoryEngine(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			rows, cols, data := loadSample(t, b.open(t))
			mem := &kql.MemSource{Tables: map[string]*kql.MemTable{"T": {Columns: cols, Rows: data}}}
			src := rows.Source("ws1", Window{})
			for _, q := range pushdownQueries {
				want := resultText(runQuery(t, mem, q))
				got := resultText(runQuery(t, src, q))
				if !slices.Equal(got, want) {
					t.Errorf("%s: got %d rows, want %d; first difference: %s", q, len(got), len(want), firstDiff(got, want))
				}
			}
		})
	}
}

func TestSourcePushesFiltersIntoSQL(t *testing.T) {
	rows, _, _ := loadSample(t, backends[0].open(t))
	ctx := context.Background()
	src := rows.Source("ws1", Window{})
	cases := []struct {
		f    kql.Filter
		push bool
	}{
		{kql.Filter{Column: "Count", Op: ">", Values: []kql.Value{kql.Long(2)}}, true},
		{kql.Filter{Column: "Name", Op: "contains", Values: []kql.Value{kql.String("al")}}, true},
		{kql.Filter{Column: "Name", Op: "contains", Values: []kql.Value{kql.String("é")}}, false},
		{kql.Filter{Column: "Name", Op: "has", Values: []kql.Value{kql.String("al")}}, false},
		{kql.Filter{Column: "Name", Op: "<", Values: []kql.Value{kql.String("b")}}, false},
		{kql.Filter{Column: "Count", Op: "==", Values: []kql.Value{kql.String("2")}}, false},
		{kql.Filter{Column: "Props", Op: "==", Values: []kql.Value{kql.Long(2)}}, false},
		{kql.Filter{Column: "TimeGenerated", Op: ">=", Values: []kql.Value{kql.DateTime(Ticks(fixedNow))}}, true},
		{kql.Filter{Column: "Nope", Op: "==", Values: []kql.Value{kql.Long(2)}}, false},
	}
	for _, c := range cases {
		if got := src.CanFilter("T", c.f); got != c.push {
			t.Errorf("CanFilter(%s) = %v, want %v", c.f, got, c.push)
		}
	}
	// A limit and projection reach SQL: a take over a large table reads
	// only that many rows.
	it, err := src.Scan(ctx, kql.ScanRequest{Table: "T", Columns: []string{"Name"}, Limit: 3,
		Filters: []kql.Filter{{Column: "Count", Op: ">=", Values: []kql.Value{kql.Long(0)}}}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		r, err := it.Next(ctx)
		if err != nil {
			break
		}
		if len(r) != 1 {
			t.Fatalf("row has %d columns, want 1", len(r))
		}
		n++
	}
	if n != 3 {
		t.Errorf("scan returned %d rows, want 3", n)
	}
}

func TestWindowRestrictsTimeGenerated(t *testing.T) {
	rows := NewRows(backends[0].open(t), clock)
	ctx := context.Background()
	cols, data := sampleTable()
	if err := rows.Append(ctx, "ws1", "T", cols, data, Evolve); err != nil {
		t.Fatal(err)
	}
	w := Window{From: Ticks(fixedNow.Add(-5 * time.Hour)), To: Ticks(fixedNow)}
	res := runQuery(t, rows.Source("ws1", w), "T | count")
	if got := res.Rows[0][0].AsInt(); got != 6 {
		t.Errorf("rows in the last 5 hours = %d, want 6", got)
	}
}

func firstDiff(got, want []string) string {
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("row %d got %q want %q", i, g, w)
		}
	}
	return "none"
}
