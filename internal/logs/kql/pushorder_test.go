package kql

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

// sourceOnly hides every method but Source's, so the planner sees a
// Source that cannot order.
type sourceOnly struct{ Source }

func TestPlannerPushesTheOrderOfTopAndSortTake(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		order    string // the pushed keys, "" for none
		limit    int64
		maxReads int
	}{
		{name: "top", query: `Events | top 3 by Level`,
			order: "Level desc nulls last", limit: 3, maxReads: 3},
		{name: "top ascending after pushed filters", query: `Events | where Level >= 1 | top 4 by Resource asc`,
			order: "Resource asc nulls first", limit: 4, maxReads: 4},
		{name: "sort then take", query: `Events | sort by Level asc, TimeGenerated desc | take 5`,
			order: "Level asc nulls first, TimeGenerated desc nulls last", limit: 5, maxReads: 5},
		{name: "order by with explicit nulls", query: `Events | order by Resource desc nulls first | take 2 | project Resource`,
			order: "Resource desc nulls first", limit: 2, maxReads: 2},
		{name: "computed key is not pushed", query: `Events | top 3 by strlen(Resource)`, maxReads: 100},
		{name: "sort without take is not pushed", query: `Events | sort by Level | project Level`, maxReads: 100},
		{name: "take before sort is a plain limit", query: `Events | take 10 | sort by Level`, limit: 10, maxReads: 10},
		{name: "a filter left in the plan stops the order", query: `Events | where strlen(Resource) == 2 | top 2 by Level`, maxReads: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := eventsSource(100)
			res, req := runOneScan(t, src, tt.query)
			var got []string
			for _, k := range req.Order {
				got = append(got, k.String())
			}
			if strings.Join(got, ", ") != tt.order {
				t.Errorf("pushed order %q, want %q", strings.Join(got, ", "), tt.order)
			}
			if req.Limit != tt.limit {
				t.Errorf("pushed limit %d, want %d", req.Limit, tt.limit)
			}
			if src.produced > tt.maxReads {
				t.Errorf("source produced %d rows, want at most %d", src.produced, tt.maxReads)
			}
			// The rows, in their order, are those of a plan that pushes
			// nothing but the filters.
			ref, err := Run(context.Background(), tt.query, Options{Source: sourceOnly{&eventsSource(100).MemSource}})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := rowTexts(res), rowTexts(ref); !slices.Equal(g, w) {
				t.Errorf("rows %v, want %v", g, w)
			}
		})
	}
}

func TestSourceThatCannotOrderGetsNoOrder(t *testing.T) {
	rec := eventsSource(100)
	if _, err := Run(context.Background(), `Events | top 3 by Level`, Options{Source: sourceOnly{rec}}); err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) != 1 || len(rec.reqs[0].Order) != 0 || rec.reqs[0].Limit != 0 {
		t.Errorf("scans %+v, want one without order or limit", rec.reqs)
	}
}

func TestMemSourceOrdersStablyWithNullsAndNaN(t *testing.T) {
	nan := Real(math.NaN())
	src := &MemSource{Tables: map[string]*MemTable{"T": {
		Columns: []Column{{"id", TypeLong}, {"x", TypeReal}},
		Rows: []Row{
			{Long(1), Real(2)}, {Long(2), Null(TypeReal)}, {Long(3), Real(1)},
			{Long(4), nan}, {Long(5), Real(2)}, {Long(6), Real(-1)},
		},
	}}}
	tests := []struct {
		key   OrderKey
		limit int64
		want  []int64
	}{
		{OrderKey{Column: "x", Asc: true, NullsFirst: true}, 0, []int64{2, 4, 6, 3, 1, 5}},
		{OrderKey{Column: "x", Asc: true}, 0, []int64{6, 3, 1, 5, 2, 4}},
		{OrderKey{Column: "x"}, 0, []int64{1, 5, 3, 6, 2, 4}},
		{OrderKey{Column: "x", NullsFirst: true}, 3, []int64{2, 4, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.key.String(), func(t *testing.T) {
			it, err := src.Scan(context.Background(), ScanRequest{Table: "T", Columns: []string{"id"}, Order: []OrderKey{tt.key}, Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := drain(context.Background(), it)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range rows {
				got = append(got, r[0].AsInt())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
}

func rowTexts(r *Result) []string {
	var out []string
	for _, row := range r.Rows {
		parts := make([]string, len(row))
		for i, v := range row {
			parts[i] = v.Text()
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}
