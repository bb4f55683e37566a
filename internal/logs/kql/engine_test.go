package kql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// recordingSource wraps a MemSource, remembering the scans it was asked for
// and counting the rows it produced.
type recordingSource struct {
	MemSource
	reqs     []ScanRequest
	produced int
	refuse   map[string]bool // columns whose filters it will not apply
}

func (s *recordingSource) CanFilter(table string, f Filter) bool {
	return !s.refuse[f.Column] && s.MemSource.CanFilter(table, f)
}

func (s *recordingSource) Scan(ctx context.Context, req ScanRequest) (RowIter, error) {
	s.reqs = append(s.reqs, req)
	it, err := s.MemSource.Scan(ctx, req)
	if err != nil {
		return nil, err
	}
	return &funcIter{next: func(ctx context.Context) (Row, error) {
		r, err := it.Next(ctx)
		if err == nil {
			s.produced++
		}
		return r, err
	}}, nil
}

// runOneScan runs query over src and returns the result and the one scan
// the planner asked of src.
func runOneScan(t *testing.T, src *recordingSource, query string) (*Result, ScanRequest) {
	t.Helper()
	res, err := Run(context.Background(), query, Options{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.reqs) != 1 {
		t.Fatalf("%d scans, want 1", len(src.reqs))
	}
	return res, src.reqs[0]
}

func eventsSource(n int) *recordingSource {
	t := &MemTable{Columns: []Column{{"TimeGenerated", TypeDateTime}, {"Resource", TypeString}, {"Level", TypeLong}}}
	base := timeToTicks(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := 0; i < n; i++ {
		t.Rows = append(t.Rows, Row{DateTime(base + int64(i)*ticksPerMinute), String(fmt.Sprintf("r%d", i%10)), Long(int64(i % 4))})
	}
	return &recordingSource{MemSource: MemSource{Tables: map[string]*MemTable{"Events": t}}}
}

func TestPlannerPushesFiltersProjectionAndLimitToTheSource(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		filters   []string
		columns   []string
		limit     int64
		rows      int
		maxReads  int
		unpushCol string
	}{
		{name: "leading where conjuncts", query: `Events | where Level == 2 and Resource in ("r2", "r6") | count`,
			filters: []string{"Level == 2", `Resource in ('r2', 'r6')`}, rows: 1, maxReads: 50},
		{name: "take after fully pushed filters", query: `Events | where Level >= 1 | take 5`,
			filters: []string{"Level >= 1"}, limit: 5, rows: 5, maxReads: 5},
		{name: "plain project", query: `Events | project Resource, Level`,
			columns: []string{"Resource", "Level"}, rows: 100, maxReads: 100},
		{name: "literal on the left is flipped", query: `Events | where 2 < Level`,
			filters: []string{"Level > 2"}, rows: 25, maxReads: 25},
		{name: "refused filter stays in the plan", query: `Events | where Level == 1 and Resource == "r1" | take 3`,
			filters: []string{"Level == 1"}, rows: 3, maxReads: 100, unpushCol: "Resource"},
		{name: "computed predicate is not pushed", query: `Events | where strlen(Resource) == 2 | take 1`,
			rows: 1, maxReads: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := eventsSource(100)
			if tt.unpushCol != "" {
				src.refuse = map[string]bool{tt.unpushCol: true}
			}
			res, req := runOneScan(t, src, tt.query)
			var got []string
			for _, f := range req.Filters {
				got = append(got, f.String())
			}
			if strings.Join(got, "; ") != strings.Join(tt.filters, "; ") {
				t.Errorf("pushed filters %q, want %q", got, tt.filters)
			}
			if strings.Join(req.Columns, ",") != strings.Join(tt.columns, ",") {
				t.Errorf("pushed columns %v, want %v", req.Columns, tt.columns)
			}
			if req.Limit != tt.limit {
				t.Errorf("pushed limit %d, want %d", req.Limit, tt.limit)
			}
			if len(res.Rows) != tt.rows {
				t.Errorf("%d result rows, want %d", len(res.Rows), tt.rows)
			}
			if src.produced > tt.maxReads {
				t.Errorf("source produced %d rows, want at most %d", src.produced, tt.maxReads)
			}
		})
	}
}

func TestRefusedFilterIsStillApplied(t *testing.T) {
	src := eventsSource(100)
	src.refuse = map[string]bool{"Resource": true}
	res, err := Run(context.Background(), `Events | where Resource == "r1" | count`, Options{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0].AsInt(); got != 10 {
		t.Errorf("count = %d, want 10", got)
	}
}

// TestPushedFiltersKeepNullsAsWhereDoes: a null matches != and !in (and
// nothing else) whether the source applies the filter or the where
// operator does.
func TestPushedFiltersKeepNullsAsWhereDoes(t *testing.T) {
	tab := &MemTable{Columns: []Column{{"x", TypeLong}}, Rows: []Row{{Long(1)}, {Null(TypeLong)}, {Long(2)}}}
	for _, cond := range []string{"x != 1", "x !in (1)", "x in (1, 2)", "x == 2", "x > 0", "x between (0 .. 5)"} {
		counts := map[bool]int64{}
		for _, refuse := range []bool{false, true} {
			src := &recordingSource{MemSource: MemSource{Tables: map[string]*MemTable{"T": tab}}, refuse: map[string]bool{"x": refuse}}
			res, err := Run(context.Background(), "T | where "+cond+" | count", Options{Source: src})
			if err != nil {
				t.Fatal(err)
			}
			if pushed := len(src.reqs[0].Filters) == 1; pushed == refuse {
				t.Fatalf("%s: filters %v with refuse=%v", cond, src.reqs[0].Filters, refuse)
			}
			counts[refuse] = res.Rows[0][0].AsInt()
		}
		if counts[false] != counts[true] {
			t.Errorf("%s: %d rows when pushed, %d when the where operator runs it", cond, counts[false], counts[true])
		}
	}
}

func TestTakeStopsReadingItsInput(t *testing.T) {
	src := eventsSource(10000)
	src.refuse = map[string]bool{"Level": true}
	if _, err := Run(context.Background(), `Events | where Level == 3 | take 2`, Options{Source: src}); err != nil {
		t.Fatal(err)
	}
	if src.produced > 8 {
		t.Errorf("source produced %d rows for take 2, want streaming to stop early", src.produced)
	}
}

func TestUnknownTableIsASemanticError(t *testing.T) {
	_, err := Run(context.Background(), `Nope | take 1`, Options{Source: eventsSource(1)})
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "Nope") {
		t.Fatalf("error = %v, want a CompileError naming the table", err)
	}
}

func TestNowIsInjectedAndStableWithinAQuery(t *testing.T) {
	fixed := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	res, err := Run(context.Background(), `print a = now(), b = ago(1d), same = now() == now()`, Options{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{res.Rows[0][0].Text(), res.Rows[0][1].Text(), res.Rows[0][2].Text()}
	want := []string{"2024-05-01T10:00:00.0000000Z", "2024-04-30T10:00:00.0000000Z", "True"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// The governance queries the issue names: latest state per assignment, and
// key age in days.
func TestGovernanceQueries(t *testing.T) {
	tbl := &MemTable{Columns: []Column{{"TimeGenerated", TypeDateTime}, {"Policy_assignment_id", TypeString}, {"Is_compliant", TypeBool}}}
	day := func(d int) Value { return DateTime(timeToTicks(time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC))) }
	tbl.Rows = []Row{
		{day(1), String("a1"), Bool(false)}, {day(2), String("a1"), Bool(true)},
		{day(1), String("a2"), Bool(true)}, {day(3), String("a2"), Bool(false)},
	}
	src := &MemSource{Tables: map[string]*MemTable{"PolicyComplianceStates_CL": tbl}}
	tests := []struct{ query, want string }{
		{`PolicyComplianceStates_CL | summarize arg_max(TimeGenerated,*) by Policy_assignment_id | where Is_compliant==false`,
			"Policy_assignment_id,TimeGenerated,Is_compliant|'a2', 2024-01-03T00:00:00.0000000Z, False"},
		{`PolicyComplianceStates_CL | extend age = datetime_diff('day', now(), TimeGenerated) | where age > 30 | project Policy_assignment_id, age`,
			"Policy_assignment_id,age|'a1', 40;'a1', 39;'a2', 40;'a2', 38"},
	}
	now := func() time.Time { return time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC) }
	for _, tt := range tests {
		res, err := Run(context.Background(), tt.query, Options{Source: src, Now: now})
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		var names, rows []string
		for _, c := range res.Columns {
			names = append(names, c.Name)
		}
		for _, r := range res.Rows {
			var cells []string
			for _, v := range r {
				cells = append(cells, v.Text())
			}
			rows = append(rows, strings.Join(cells, ", "))
		}
		if got := strings.Join(names, ",") + "|" + strings.Join(rows, ";"); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.query, got, tt.want)
		}
	}
}

func TestQueryResponseEncodesValuesAsTheAPIDoes(t *testing.T) {
	res, err := Run(context.Background(), `print s = "x", n = 2, r = real(nan), d = datetime(2020-01-02 03:04:05), t = 90m, j = dynamic({"a":1}), z = long(null), b = true`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%v", res.QueryResponse().Tables[0].Rows[0])
	want := `[x 2 NaN 2020-01-02T03:04:05Z 01:30:00 {"a":1} <nil> true]`
	if got != want {
		t.Errorf("rows = %s, want %s", got, want)
	}
}

// Seed 002's two queries over the HTTP Data Collector's AWS access-key table.
func TestSeed002Queries(t *testing.T) {
	day := func(y, m, d int) Value { return DateTimeOf(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)) }
	tbl := &MemTable{Columns: []Column{{"TimeGenerated", TypeDateTime}, {"AccessKeyId_s", TypeString}, {"user_s", TypeString}, {"status_s", TypeString}, {"CreateDate_t", TypeDateTime}}}
	tbl.Rows = []Row{
		{day(2020, 1, 1), String("AKIA1"), String("azuread"), String("Active"), day(2019, 6, 30)},
		{day(2020, 1, 1), String("AKIA2"), String("bob"), String("Active"), day(2019, 12, 20)},
		{day(2020, 1, 1), String("AKIA3"), String("carol"), String("Active"), day(2019, 6, 30)},
	}
	src := &MemSource{Tables: map[string]*MemTable{"AWS_Access_Key_Report_CL": tbl}}
	now := func() time.Time { return time.Date(2020, 1, 10, 12, 0, 0, 0, time.UTC) }

	res, err := Run(context.Background(), "AWS_Access_Key_Report_CL\n| extend key_age = datetime_diff('day',now(),CreateDate_t)\n| project Age=key_age,AccessKey=AccessKeyId_s, User=user_s\n| where Age > 90\n| sort by Age", Options{Source: src, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, r[0].Text()+" "+r[1].Plain()+" "+r[2].Plain())
	}
	if want := "194 AKIA1 azuread;194 AKIA3 carol"; strings.Join(got, ";") != want {
		t.Errorf("key age query = %q, want %q", strings.Join(got, ";"), want)
	}

	res, err = Run(context.Background(), "AWS_Access_Key_Report_CL\n| make-series AccessKeys=count() default=0 on CreateDate_t from datetime(2019-01-01) to datetime(2020-01-01) step 1d", Options{Source: src, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || len(res.Columns) != 2 || res.Columns[0].Name != "AccessKeys" || res.Columns[1].Name != "CreateDate_t" {
		t.Fatalf("make-series shape = %v with %d rows", res.Columns, len(res.Rows))
	}
	counts := res.Rows[0][0].AsDynamic().([]any)
	axis := res.Rows[0][1].AsDynamic().([]any)
	if len(counts) != 365 || len(axis) != 365 {
		t.Fatalf("series has %d counts and %d axis points, want 365 (2019 has 365 days, to is exclusive)", len(counts), len(axis))
	}
	// 2019-06-30 is day 180 of the year (index 180), 2019-12-20 index 353
	if counts[180] != int64(2) || counts[353] != int64(1) || counts[0] != int64(0) {
		t.Errorf("counts[180]=%v counts[353]=%v counts[0]=%v, want 2, 1, 0", counts[180], counts[353], counts[0])
	}
	if axis[180] != "2019-06-30T00:00:00.0000000Z" {
		t.Errorf("axis[180] = %v", axis[180])
	}
}

// Separately compiled queries share no mutable state, so one source can
// serve concurrent queries (run with -race).
func TestRunIsSafeForConcurrentQueries(t *testing.T) {
	src := &eventsSource(2000).MemSource
	queries := []string{
		`Events | where Resource has "r1" | summarize n = count(), m = arg_max(TimeGenerated, *) by Level`,
		`Events | extend s = strcat(Resource, "-", tostring(Level)) | where s contains "R3" | count`,
		`Events | sort by TimeGenerated desc | extend rn = row_number() | where rn <= 5 | project rn, Resource`,
	}
	want := make([]string, len(queries))
	render := func(res *Result) string {
		var b strings.Builder
		for _, r := range res.Rows {
			for _, v := range r {
				b.WriteString(v.Text() + ",")
			}
		}
		return b.String()
	}
	for i, q := range queries {
		res, err := Run(context.Background(), q, Options{Source: src})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = render(res)
	}
	errs := make(chan error, 24)
	for g := 0; g < 24; g++ {
		go func(g int) {
			i := g % len(queries)
			res, err := Run(context.Background(), queries[i], Options{Source: src})
			if err == nil && render(res) != want[i] {
				err = fmt.Errorf("query %d gave a different result when run concurrently", i)
			}
			errs <- err
		}(g)
	}
	for g := 0; g < 24; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestAPIDateTimesDropTrailingZeros(t *testing.T) {
	tests := map[string]string{
		"2017-08-24 06:59:59":         "2017-08-24T06:59:59Z",
		"2021-03-24 22:35:06.8337386": "2021-03-24T22:35:06.8337386Z",
		"2021-03-24 22:35:06.5":       "2021-03-24T22:35:06.5Z",
	}
	for in, want := range tests {
		ticks, ok := parseDateTime(in)
		if !ok {
			t.Fatalf("parseDateTime(%q) failed", in)
		}
		if got := DateTime(ticks).APIValue(); got != want {
			t.Errorf("APIValue(%s) = %v, want %s", in, got, want)
		}
	}
}
