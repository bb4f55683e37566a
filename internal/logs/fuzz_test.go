package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// FuzzCollectorBody feeds arbitrary bodies to the Data Collector API's
// parser and column typing: they must give records or an error, never a
// panic, and every typed value must match its column's type.
func FuzzCollectorBody(f *testing.F) {
	for _, s := range []string{seedBody, `[{"a":1}]`, `{"x":"8145d82213a744ad859c36f31a84f6dd"}`, `[{"t":"2026-01-01T00:00:00Z","n":null,"o":{"a":[1]}}]`,
		`[{"a":"1"},{"a":1},{"a":true}]`, `[[1]]`, `[{"TimeGenerated":1}]`, `[{"é":1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		recs, err := parseRecords([]byte(body))
		if err != nil {
			return
		}
		b := newCollectorBatch(nil, testCustomerID, "F_CL", "", "t", fixedNow)
		for _, r := range recs {
			if err := b.add(r); err != nil {
				return
			}
		}
		for _, row := range b.rows {
			for i, v := range row {
				if !v.IsNull() && v.T != b.cols[i].Type {
					t.Fatalf("column %s is %s but holds a %s", b.cols[i].Name, b.cols[i].Type, v.T)
				}
			}
		}
	})
}

// FuzzParseTimespan checks that any timespan parses to an ordered window
// or fails cleanly.
func FuzzParseTimespan(f *testing.F) {
	for _, s := range []string{"PT12H", "P1D", "P1W", "2026-03-01T00:00:00Z/PT1H", "PT1H/2026-03-01T00:00:00Z", "P", "a/b", "P99999999999D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseTimespan(s, fixedNow)
		if err == nil && w != (Window{}) && w.From > w.To {
			t.Fatalf("%q gave a window that ends before it starts", s)
		}
	})
}

func TestConcurrentIngestionEvolvesOneSchema(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			rows := NewRows(be.open(t), clock)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for w := range 8 {
				wg.Go(func() {
					cols := []kql.Column{{Name: "worker", Type: kql.TypeLong}, {Name: fmt.Sprintf("c%d", w%3), Type: kql.TypeString}}
					for i := range 5 {
						if err := rows.Append(ctx, "ws", "C_CL", cols, []kql.Row{{kql.Long(int64(w)), kql.String(fmt.Sprint(i))}}, Evolve); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			tab, err := rows.Table(ctx, "ws", "C_CL")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range tab.Columns {
				names = append(names, c.Name)
			}
			if got := strings.Join(names[2:], ","); len(names) != 5 || !strings.Contains(got, "c0") || !strings.Contains(got, "c1") || !strings.Contains(got, "c2") {
				t.Errorf("columns %v", names)
			}
			res := runQuery(t, rows.Source("ws", Window{}), "C_CL | count")
			if n := res.Rows[0][0].AsInt(); n != 40 {
				t.Errorf("%d rows, want 40", n)
			}
		})
	}
}

// FuzzQueryAPINeverFails500 sends arbitrary queries to the query API over
// a small table: every answer must be a 200 or a 4xx in Azure's shape.
func FuzzQueryAPINeverFails500(f *testing.F) {
	for _, q := range append([]string{"T | where (", "T | summarize arg_max(TimeGenerated,*) by Name", "print 1/0",
		"T | extend x = todynamic(Props)[0] | mv-expand x", "let x = T; x | join (T) on Name", "T | take -1",
		"datatable(a:int)[1,2] | make-series count() on a from 0 to 10 step 0"}, pushdownQueries...) {
		f.Add(q)
	}
	for _, tc := range orderQueries {
		f.Add(tc.q)
	}
	s := New(storetest.SQLite(f), Options{Now: clock})
	ctx := context.Background()
	if err := s.st.Update(ctx, func(tx store.Tx) error {
		return putJSON(ctx, tx, workspacesTable, testCustomerID, Workspace{ResourceID: "/x", CustomerID: testCustomerID})
	}); err != nil {
		f.Fatal(err)
	}
	cols, data := sampleTable()
	if err := s.Rows.Append(ctx, testCustomerID, "T", cols, data, Evolve); err != nil {
		f.Fatal(err)
	}
	h := s.QueryHandler()
	f.Fuzz(func(t *testing.T, q string) {
		b, _ := json.Marshal(map[string]string{"query": q})
		r := httptest.NewRequest("POST", "/v1/workspaces/"+testCustomerID+"/query", bytes.NewReader(b))
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(ctx))
		if w.Code >= 500 && w.Code != http.StatusGatewayTimeout {
			t.Fatalf("%q: %d %s", q, w.Code, w.Body)
		}
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%q: answer is not JSON: %s", q, w.Body)
		}
	})
}
