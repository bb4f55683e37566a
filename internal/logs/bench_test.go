package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// benchRowsEnv sets the table size of BenchmarkArgMaxQuery; the default is
// small for CI, docs/benchmarks/logs.md has the full-size command.
const benchRowsEnv = "STEWARD_LOGS_BENCH_ROWS"

func benchStore(b *testing.B, backend string) store.Store {
	if backend == "postgres" {
		return storetest.Postgres(b)
	}
	return storetest.SQLite(b)
}

// BenchmarkCollectorIngest posts batches of 500 records through the Data
// Collector API and reports rows per second.
func BenchmarkCollectorIngest(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			s := newTestService(&testing.T{}, benchStore(b, backend))
			var recs []string
			for i := range 500 {
				recs = append(recs, fmt.Sprintf(`{"Computer":"vm%d","Level":%d,"Message":"disk %d%% full","Ok":%v}`, i%50, i%5, i%100, i%2 == 0))
			}
			body := "[" + strings.Join(recs, ",") + "]"
			h := s.CollectorHandler()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, collectorRequest(&testing.T{}, "Bench", body, fixedNow, nil))
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkIngestionAPI uploads batches of 500 records through the Logs
// Ingestion API (DCR transformation included) and reports rows per second.
func BenchmarkIngestionAPI(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			t := &testing.T{}
			s := newTestService(t, benchStore(b, backend))
			s.opts.IngestionURL = "https://steward.test/ingest"
			if _, err := s.EnsureWorkspace(context.Background(), testWorkspaceID, "", 0); err != nil {
				b.Fatal(err)
			}
			imm := setupPolicyStates(t, s)
			var states []policyState
			for i := range 500 {
				states = append(states, policyState{Timestamp: fixedNow.Format(time.RFC3339),
					PolicyAssignmentId: fmt.Sprintf("a%d", i%50), PolicyDefinitionId: "d", ResourceId: fmt.Sprintf("vm%d", i), IsCompliant: i%3 == 0})
			}
			body, _ := json.Marshal(states)
			h := s.IngestionHandler()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, ingestRequest(imm, "Custom-PolicyStates", body, false))
				if w.Code != http.StatusNoContent {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// loadPolicyStates fills PolicyComplianceStates_CL with n rows over 1000
// assignments.
func loadPolicyStates(b *testing.B, rows *Rows, n int) {
	cols := []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "Policy_assignment_id", Type: kql.TypeString},
		{Name: "Policy_definition_id", Type: kql.TypeString}, {Name: "Resource_id", Type: kql.TypeString},
		{Name: "Is_compliant", Type: kql.TypeBool}}
	ctx := context.Background()
	if _, err := rows.DefineTable(ctx, testCustomerID, "PolicyComplianceStates_CL", cols, 0); err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	start := Ticks(fixedNow.Add(-24 * time.Hour))
	for i := 0; i < n; i += batch {
		var rs []kql.Row
		for j := i; j < min(n, i+batch); j++ {
			rs = append(rs, kql.Row{kql.DateTime(start + int64(j)*1000), kql.String("/providers/Microsoft.Authorization/policyAssignments/a" + strconv.Itoa(j%1000)),
				kql.String("/providers/Microsoft.Authorization/policyDefinitions/d" + strconv.Itoa(j%37)),
				kql.String("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm" + strconv.Itoa(j%5003)),
				kql.Bool((j*7919)%5 != 0)})
		}
		if err := rows.Append(ctx, testCustomerID, "PolicyComplianceStates_CL", cols, rs, Fixed); err != nil {
			b.Fatal(err)
		}
	}
}

// handSQL is the fastest SQL found for seed 000's alert query on each
// backend: SQLite's bare columns of a max() aggregate, PostgreSQL's
// DISTINCT ON.
var handSQL = map[store.Dialect]string{
	store.SQLite:   "SELECT * FROM (SELECT c1, max(c0) AS tg, c2, c3, c4 FROM %[1]s GROUP BY c1) WHERE c4 = 0",
	store.Postgres: "SELECT * FROM (SELECT DISTINCT ON (c1) c1, c0, c2, c3, c4 FROM %[1]s ORDER BY c1, c0 DESC) x WHERE c4 = 0",
}

// BenchmarkArgMaxQuery runs seed 000's alert query through the KQL engine
// and the hand-written SQL over the same table.
func BenchmarkArgMaxQuery(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv(benchRowsEnv)); err == nil && v > 0 {
		n = v
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/rows=%d", backend, n), func(b *testing.B) {
			s := New(benchStore(b, backend), Options{Now: clock})
			loadPolicyStates(b, s.Rows, n)
			const q = "PolicyComplianceStates_CL | summarize arg_max(TimeGenerated,*) by Policy_assignment_id | where Is_compliant==false"
			var want int
			b.Run("kql", func(b *testing.B) {
				for b.Loop() {
					res, qe := s.RunQuery(context.Background(), testCustomerID, q, Window{})
					if qe != nil {
						b.Fatal(qe)
					}
					want = len(res.tables[0].Rows)
				}
			})
			b.Run("sql", func(b *testing.B) {
				t, err := s.Rows.Table(context.Background(), testCustomerID, "PolicyComplianceStates_CL")
				if err != nil {
					b.Fatal(err)
				}
				raw := s.Rows.raw
				for b.Loop() {
					rs, err := raw.Read.QueryContext(context.Background(), fmt.Sprintf(handSQL[raw.Dialect], t.SQLName))
					if err != nil {
						b.Fatal(err)
					}
					got := 0
					var c1, c2, c3 string
					var c0, c4 int64
					for rs.Next() {
						if err := rs.Scan(&c1, &c0, &c2, &c3, &c4); err != nil {
							b.Fatal(err)
						}
						got++
					}
					rs.Close()
					if want != 0 && got != want {
						b.Fatalf("hand-written SQL found %d rows, the KQL engine %d", got, want)
					}
				}
			})
		})
	}
}

// BenchmarkTopQuery runs "top 10 by TimeGenerated" (the indexed column) and
// "top 10 by Resource_id" (unindexed) with the order pushed into SQL
// (pushed) and with the planner sorting every row itself (in-memory).
func BenchmarkTopQuery(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv(benchRowsEnv)); err == nil && v > 0 {
		n = v
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/rows=%d", backend, n), func(b *testing.B) {
			rows := NewRows(benchStore(b, backend), clock)
			loadPolicyStates(b, rows, n)
			src := rows.Source(testCustomerID, Window{})
			for _, q := range []string{
				"PolicyComplianceStates_CL | top 10 by TimeGenerated",
				"PolicyComplianceStates_CL | top 10 by Resource_id asc",
			} {
				for _, mode := range []struct {
					name string
					src  kql.Source
				}{{"pushed", src}, {"in-memory", plainSource{src}}} {
					b.Run(strings.Fields(q)[5]+"/"+mode.name, func(b *testing.B) {
						for b.Loop() {
							res, err := kql.Run(context.Background(), q, kql.Options{Source: mode.src, Now: clock})
							if err != nil {
								b.Fatal(err)
							}
							if len(res.Rows) != 10 {
								b.Fatalf("%d rows, want 10", len(res.Rows))
							}
						}
					})
				}
			}
		})
	}
}
