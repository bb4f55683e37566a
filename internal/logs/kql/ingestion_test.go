package kql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// ingestSource is a MemSource whose tables keep a per-row ingestion time
// (an IngestionTimeSource), as the log store does. With push it also
// applies filters on ingestion_time(). It records the scans it was asked
// for.
type ingestSource struct {
	MemSource
	times map[string][]Value
	push  bool
	reqs  []ScanRequest
}

func (s *ingestSource) HasIngestionTime(table string) bool { _, ok := s.times[table]; return ok }

func (s *ingestSource) CanFilter(table string, f Filter) bool {
	if f.Column == IngestionTimeColumn {
		return s.push
	}
	return s.MemSource.CanFilter(table, f)
}

// Scan answers from a copy of the table with the ingestion time as one
// more column, named IngestionTimeColumn, so that MemSource applies the
// filters on it and returns it last.
func (s *ingestSource) Scan(ctx context.Context, req ScanRequest) (RowIter, error) {
	s.reqs = append(s.reqs, req)
	t, ok := s.Tables[req.Table]
	if !ok {
		return nil, ErrNoTable
	}
	wide := &MemTable{Columns: append(append([]Column(nil), t.Columns...), Column{IngestionTimeColumn, TypeDateTime})}
	for i, r := range t.Rows {
		wide.Rows = append(wide.Rows, append(append(Row(nil), r...), s.times[req.Table][i]))
	}
	cols := req.Columns
	if cols == nil {
		for _, c := range t.Columns {
			cols = append(cols, c.Name)
		}
	}
	if req.IngestionTime {
		cols = append(cols[:len(cols):len(cols)], IngestionTimeColumn)
	}
	mem := &MemSource{Tables: map[string]*MemTable{req.Table: wide}}
	return mem.Scan(ctx, ScanRequest{Table: req.Table, Columns: cols, Filters: req.Filters, Limit: req.Limit, Order: req.Order})
}

var ingestBase = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// newIngestSource holds table T: three records generated at 10:00, 10:30
// and 11:00, ingested at 12:00, 12:05 and never known (a record stored
// before ingestion times were kept).
func newIngestSource() *ingestSource {
	at := func(h, m int) Value {
		return DateTime(timeToTicks(ingestBase.Add(time.Duration(h-12)*time.Hour + time.Duration(m)*time.Minute)))
	}
	t := &MemTable{Columns: []Column{{"TimeGenerated", TypeDateTime}, {"Name", TypeString}, {"N", TypeLong}}, Rows: []Row{
		{at(10, 0), String("a"), Long(1)},
		{at(10, 30), String("b"), Long(2)},
		{at(11, 0), String("c"), Long(3)},
	}}
	return &ingestSource{MemSource: MemSource{Tables: map[string]*MemTable{"T": t}},
		times: map[string][]Value{"T": {at(12, 0), at(12, 5), Null(TypeDateTime)}}}
}

// ingestRowsText renders a result as "v|v|..." lines, checking that no row
// carries more values than the result has columns.
func ingestRowsText(t *testing.T, res *Result) string {
	t.Helper()
	var lines []string
	for _, r := range res.Rows {
		if len(r) != len(res.Columns) {
			t.Fatalf("a row of %d values for %d columns: %v", len(r), len(res.Columns), r)
		}
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = v.Plain()
		}
		lines = append(lines, strings.Join(parts, "|"))
	}
	return strings.Join(lines, "\n")
}

func TestIngestionTimeReadsEachRecordsTime(t *testing.T) {
	const (
		t1200 = "2026-03-10T12:00:00.0000000Z"
		t1205 = "2026-03-10T12:05:00.0000000Z"
	)
	tests := []struct {
		name, query, want string
	}{
		{"extend", `T | extend it = ingestion_time() | project Name, it`,
			"a|" + t1200 + "\nb|" + t1205 + "\nc|"},
		{"project", `T | project Name, it = ingestion_time()`,
			"a|" + t1200 + "\nb|" + t1205 + "\nc|"},
		{"where in the engine", `T | where ingestion_time() > datetime(2026-03-10 12:01) | project Name`, "b"},
		{"null never matches", `T | where ingestion_time() < datetime(2030-01-01) | project Name`, "a\nb"},
		{"isnull finds records stored before", `T | where isnull(ingestion_time()) | project Name`, "c"},
		{"latency query", `T | extend E2EIngestionLatency = ingestion_time() - TimeGenerated | project Name, E2EIngestionLatency`,
			"a|02:00:00\nb|01:35:00\nc|"},
		{"through where, project-away, sort and take", `T | where N > 0 | project-away N | sort by Name desc | take 2 | extend it = ingestion_time() | project Name, it`,
			"c|\nb|" + t1205},
		{"project-rename and project-reorder keep it", `T | project-rename M = N | project-reorder Name | extend it = ingestion_time() | project Name, it`,
			"a|" + t1200 + "\nb|" + t1205 + "\nc|"},
		{"extend with several new columns", `T | extend a = 1, it = ingestion_time(), b = 2 | project a, it, b`,
			"1|" + t1200 + "|2\n1|" + t1205 + "|2\n1||2"},
		{"extend replacing a column", `T | extend N = N * 10 | extend it = ingestion_time() | project N, it`,
			"10|" + t1200 + "\n20|" + t1205 + "\n30|"},
		{"top by it (the reference page's example)", `T | extend ingestionTime = ingestion_time() | top 10 by ingestionTime | project Name`,
			"b\na\nc"},
		{"top by the call", `T | top 1 by ingestion_time() desc | project Name`, "b"},
		{"aggregate over the records", `T | summarize max(ingestion_time()), countif(isnull(ingestion_time()))`, t1205 + "|1"},
		{"group by it", `T | summarize n = count() by h = bin(ingestion_time(), 1h) | sort by n desc | project h, n`, t1200 + "|2\n|1"},
		{"a tabular let", `let L = T | where N >= 2; L | extend it = ingestion_time() | project Name, it`, "b|" + t1205 + "\nc|"},
		{"a tabular function", `let f = () { T | where N > 1 }; f() | extend it = ingestion_time() | project Name, it`,
			"b|" + t1205 + "\nc|"},
		{"a tabular function with a parameter", `let g = (n: long) { T | where N < n }; g(2) | project it = ingestion_time()`, t1200},
		{"a user function", `let f = () { ingestion_time() }; T | take 1 | extend it = f() | project it`, t1200},
		{"serialize and a window function", `T | serialize | extend p = prev(ingestion_time()), it = ingestion_time() | project Name, p, it`,
			"a||" + t1200 + "\nb|" + t1200 + "|" + t1205 + "\nc|" + t1205 + "|"},
		{"project with a window function", `T | sort by N asc | project Name, nx = next(ingestion_time())`,
			"a|" + t1205 + "\nb|\nc|"},
		{"getschema does not show it", `T | where isnotnull(ingestion_time()) | getschema | project ColumnName`,
			"TimeGenerated\nName\nN"},
		// where Kusto's page says null
		{"after summarize", `T | summarize count() | extend it = ingestion_time()`, "3|"},
		{"after distinct", `T | distinct Name | take 1 | extend it = ingestion_time()`, "a|"},
		{"after count", `T | count | extend it = ingestion_time()`, "3|"},
		{"print", `print it = ingestion_time() | extend n = isnull(it)`, "|True"},
		{"datatable", `datatable(a: long)[1] | extend it = ingestion_time()`, "1|"},
		{"range", `range x from 1 to 1 step 1 | extend it = ingestion_time()`, "1|"},
		{"a scalar let", `let x = ingestion_time(); print isnull(x)`, "True"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), tc.query, Options{Source: newIngestSource()})
			if err != nil {
				t.Fatal(err)
			}
			if got := ingestRowsText(t, res); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestIngestionTimeIsNullOverASourceWithout(t *testing.T) {
	src := newIngestSource()
	plain := &src.MemSource // not an IngestionTimeSource
	res, err := Run(context.Background(), `T | extend it = ingestion_time() | where isnull(it) | count`, Options{Source: plain})
	if err != nil {
		t.Fatal(err)
	}
	if got := ingestRowsText(t, res); got != "3" {
		t.Errorf("rows with a null ingestion time: %s; want all 3", got)
	}
}

func TestIngestionTimeAfterOperatorsThatMixRecordsIsAnError(t *testing.T) {
	for _, q := range []string{
		`T | join kind=inner (T) on Name | extend it = ingestion_time()`,
		`T | union T | where ingestion_time() > ago(1h)`,
		`union T, T | extend it = ingestion_time()`,
		`T | mv-expand d = pack_array(1, 2) | extend it = ingestion_time()`,
		`T | as X | extend it = ingestion_time()`,
		`let M = materialize(T); M | extend it = ingestion_time()`,
		`T | extend it = ingestion_time(1)`,
	} {
		_, err := Run(context.Background(), q, Options{Source: newIngestSource()})
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v; want a compile error", q, err)
		}
	}
}

func TestIngestionTimeIsReadOnlyWhenTheQueryCallsIt(t *testing.T) {
	src := newIngestSource()
	if _, err := Run(context.Background(), `T | where N > 1 | project Name`, Options{Source: src}); err != nil {
		t.Fatal(err)
	}
	if len(src.reqs) != 1 || src.reqs[0].IngestionTime {
		t.Errorf("scans %+v; want one without the ingestion time", src.reqs)
	}
	src.reqs = nil
	if _, err := Run(context.Background(), `T | extend it = ingestion_time()`, Options{Source: src}); err != nil {
		t.Fatal(err)
	}
	if len(src.reqs) != 1 || !src.reqs[0].IngestionTime {
		t.Errorf("scans %+v; want one with the ingestion time", src.reqs)
	}
}

func TestIngestionTimeFiltersReachTheSource(t *testing.T) {
	now := func() time.Time { return ingestBase.Add(10 * time.Minute) }
	for _, push := range []bool{false, true} {
		src := newIngestSource()
		src.push = push
		res, err := Run(context.Background(), `T | where ingestion_time() > ago(7m) and N > 0 | project Name`, Options{Source: src, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if got := ingestRowsText(t, res); got != "b" {
			t.Errorf("push=%v: rows %q; want b", push, got)
		}
		var pushed []string
		for _, f := range src.reqs[0].Filters {
			pushed = append(pushed, f.String())
		}
		want := "N > 0"
		if push {
			want = "$IngestionTime > 2026-03-10T12:03:00.0000000Z, N > 0"
		}
		if got := strings.Join(pushed, ", "); got != want {
			t.Errorf("push=%v: filters %q; want %q", push, got, want)
		}
	}
}
