package logs

import (
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
)

// testClock is a clock the tests move.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// queryRows runs a query through the query API and renders its rows as
// "v|v" lines.
func queryRows(t *testing.T, s *Service, query string) []string {
	t.Helper()
	code, resp := apiQuery(t, s, testCustomerID, query, "", "")
	if code != http.StatusOK {
		t.Fatalf("%s: %d %v", query, code, resp)
	}
	var out []string
	for _, r := range tableRows(t, resp) {
		parts := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				v = ""
			}
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

// TestIngestionTimeOverTheAPIs: rows written through the Data Collector
// API, the Logs Ingestion API and an internal writer each get the time
// they were stored, from the service's clock, and the query API's
// ingestion_time() returns it, as in the latency queries of Azure
// Monitor's "Log data ingestion time" page.
func TestIngestionTimeOverTheAPIs(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &testClock{t: fixedNow} // 12:00
			s := newTestServiceAt(t, be.open(t), clk.Now)
			s.opts.IngestionURL = "https://steward.test/ingest"
			imm := setupPolicyStates(t, s)

			// 12:00: two heartbeats generated at 11:30 and 11:50 (Data Collector API)
			w := httptest.NewRecorder()
			s.CollectorHandler().ServeHTTP(w, collectorRequest(t, "Beat",
				`[{"Computer":"vm1","eventTime":"2026-03-10T11:30:00Z"},{"Computer":"vm2","eventTime":"2026-03-10T11:50:00Z"}]`, clk.Now(),
				func(r *http.Request) { r.Header.Set("time-generated-field", "eventTime") }))
			if w.Code != http.StatusOK {
				t.Fatalf("collector: %d %s", w.Code, w.Body)
			}
			// 12:05: a policy state generated at 11:05 (Logs Ingestion API)
			clk.Set(fixedNow.Add(5 * time.Minute))
			body, _ := json.Marshal([]policyState{{Timestamp: "2026-03-10T11:05:00Z", PolicyAssignmentId: "a1", PolicyDefinitionId: "d", ResourceId: "vm3"}})
			w = httptest.NewRecorder()
			s.IngestionHandler().ServeHTTP(w, ingestRequest(imm, "Custom-PolicyStates", body, false))
			if w.Code != http.StatusNoContent {
				t.Fatalf("ingestion: %d %s", w.Code, w.Body)
			}
			// 12:07: an internal writer (as the activity log writes)
			clk.Set(fixedNow.Add(7 * time.Minute))
			cols := []kql.Column{{Name: "Operation", Type: kql.TypeString}}
			if err := s.Rows.Append(ctx, testCustomerID, "Internal", cols, []kql.Row{{kql.String("write")}}, Evolve); err != nil {
				t.Fatal(err)
			}
			clk.Set(fixedNow.Add(10 * time.Minute)) // queries run at 12:10

			tests := []struct {
				query string
				want  []string
			}{
				{`Beat_CL | extend E2EIngestionLatency = ingestion_time() - TimeGenerated | project Computer_s, ingestion_time(), E2EIngestionLatency`,
					[]string{"vm1|2026-03-10T12:00:00Z|00:30:00", "vm2|2026-03-10T12:00:00Z|00:10:00"}},
				{`PolicyComplianceStates_CL | project Resource_id, IngestionTime = ingestion_time(), E2EIngestionLatency = ingestion_time() - TimeGenerated`,
					[]string{"vm3|2026-03-10T12:05:00Z|01:00:00"}},
				{`Internal | project Operation, TimeGenerated, IngestionTime = ingestion_time()`,
					[]string{"write|2026-03-10T12:07:00Z|2026-03-10T12:07:00Z"}},
				// the page's percentile query, without _TimeReceived
				{`Beat_CL | where TimeGenerated > ago(8h) | extend E2EIngestionLatency = ingestion_time() - TimeGenerated
					| summarize percentiles(E2EIngestionLatency, 50, 95) by Computer_s | top 20 by percentile_E2EIngestionLatency_95 desc`,
					[]string{"vm1|00:30:00|00:30:00", "vm2|00:10:00|00:10:00"}},
				// "records that were ingested in a certain time window"
				{`Beat_CL | where ingestion_time() > ago(8m) | count`, []string{"0"}},
				{`PolicyComplianceStates_CL | where ingestion_time() > ago(8m) | count`, []string{"1"}},
				{`Internal | where ingestion_time() between (datetime(2026-03-10 12:06) .. datetime(2026-03-10 12:08)) | count`, []string{"1"}},
				// null after an operator that makes new rows
				{`Beat_CL | summarize n = count() | extend it = ingestion_time()`, []string{"2|"}},
			}
			for _, tc := range tests {
				if got := queryRows(t, s, tc.query); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("%s:\n got %q\nwant %q", tc.query, got, tc.want)
				}
			}
			code, resp := apiQuery(t, s, testCustomerID, `Beat_CL | join (Beat_CL) on Computer_s | extend it = ingestion_time()`, "", "")
			inner, _ := resp["error"].(map[string]any)["innererror"].(map[string]any)
			if code != http.StatusBadRequest || inner["code"] != "SemanticError" {
				t.Errorf("ingestion_time() after join: %d %v; want 400 SemanticError", code, resp)
			}
		})
	}
}

// TestIngestionTimeFilterInSQLMatchesTheEngine: a where on
// ingestion_time() right after the table goes into the SQL (on the hidden
// column); the same condition after an extend is evaluated by the engine.
// Both give the same rows, the rows stored before ingestion times were
// kept (NULL) included.
func TestIngestionTimeFilterInSQLMatchesTheEngine(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &testClock{t: fixedNow}
			st := be.open(t)
			rows := NewRows(st, clk.Now)
			cols := []kql.Column{{Name: TimeGenerated, Type: kql.TypeDateTime}, {Name: "K", Type: kql.TypeLong}}
			for i := range 6 {
				clk.Set(fixedNow.Add(time.Duration(i) * time.Minute))
				row := kql.Row{kql.DateTime(Ticks(fixedNow.Add(-time.Hour))), kql.Long(int64(i))}
				if err := rows.Append(ctx, testCustomerID, "T", cols, []kql.Row{row}, Evolve); err != nil {
					t.Fatal(err)
				}
			}
			// K = 0 and 1 stand for rows stored before the change
			tab, err := rows.Table(ctx, testCustomerID, "T")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Raw().Write.ExecContext(ctx, "UPDATE "+tab.SQLName+" SET "+ingestedSQL+" = NULL WHERE c1 < 2"); err != nil {
				t.Fatal(err)
			}
			at := func(m int) string { return fmt.Sprintf("datetime(2026-03-10 12:%02d)", m) }
			for _, cond := range []string{
				"> " + at(2), ">= " + at(2), "< " + at(4), "<= " + at(4), "== " + at(3), "!= " + at(3),
				"in (" + at(2) + ", " + at(5) + ")", "!in (" + at(2) + ")", "between (" + at(3) + " .. " + at(4) + ")",
				"> ago(2m)",
			} {
				src := &recordingSource{Source: rows.Source(testCustomerID, Window{})}
				opts := kql.Options{Source: src, Now: func() time.Time { return fixedNow.Add(5 * time.Minute) }}
				pushed, err := kql.Run(ctx, "T | where ingestion_time() "+cond+" | project K", opts)
				if err != nil {
					t.Fatalf("%s: %v", cond, err)
				}
				if len(src.reqs) != 1 || len(src.reqs[0].Filters) != 1 || src.reqs[0].Filters[0].Column != kql.IngestionTimeColumn {
					t.Errorf("%s: scans %+v; want the filter in the scan", cond, src.reqs)
				}
				engine, err := kql.Run(ctx, "T | extend it = ingestion_time() | where it "+cond+" | project K", opts)
				if err != nil {
					t.Fatalf("%s: %v", cond, err)
				}
				if g, w := resultText(pushed), resultText(engine); strings.Join(g, ",") != strings.Join(w, ",") {
					t.Errorf("%s: SQL gives %v, the engine %v", cond, g, w)
				}
				if len(resultText(engine)) == 0 || len(resultText(engine)) == 6 {
					t.Errorf("%s: %v; the condition should split the rows", cond, resultText(engine))
				}
			}
		})
	}
}
