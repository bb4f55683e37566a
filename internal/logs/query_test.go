package logs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// accessKey is one record of seed 002's AWS access-key report.
type accessKey struct {
	User    string `json:"user"`
	KeyID   string `json:"AccessKeyId"`
	Created string `json:"CreateDate"`
	Status  string `json:"Status"`
}

func postCollector(t *testing.T, s *Service, logType string, records any) {
	t.Helper()
	b, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.CollectorHandler().ServeHTTP(w, collectorRequest(t, logType, string(b), fixedNow, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("post %s: %d %s", logType, w.Code, w.Body)
	}
}

// apiQuery posts a query to the query API and decodes the response.
func apiQuery(t *testing.T, s *Service, workspace, query, timespan string, prefer string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"query": query, "timespan": timespan})
	r := httptest.NewRequest("POST", "/v1/workspaces/"+workspace+"/query", strings.NewReader(string(b)))
	r.Header.Set("Content-Type", "application/json")
	if prefer != "" {
		r.Header.Set("Prefer", prefer)
	}
	w := httptest.NewRecorder()
	s.QueryHandler().ServeHTTP(w, r)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("response is not JSON: %s", w.Body)
	}
	return w.Code, out
}

func tableRows(t *testing.T, resp map[string]any) [][]any {
	t.Helper()
	tables, _ := resp["tables"].([]any)
	if len(tables) != 1 {
		t.Fatalf("response has %d tables: %v", len(tables), resp)
	}
	tab := tables[0].(map[string]any)
	if tab["name"] != "PrimaryResult" {
		t.Errorf("table name %v", tab["name"])
	}
	var rows [][]any
	for _, r := range tab["rows"].([]any) {
		rows = append(rows, r.([]any))
	}
	return rows
}

// calendarDays is datetime_diff('day', a, b): day boundaries crossed.
func calendarDays(a, b time.Time) int64 {
	day := func(t time.Time) int64 { return t.Unix() / 86400 }
	return day(a) - day(b)
}

func TestSeed002QueriesOverDataCollectorRows(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s := newTestService(t, be.open(t))
			var keys []accessKey
			created := []time.Time{
				time.Date(2019, 6, 30, 9, 0, 0, 0, time.UTC), time.Date(2019, 6, 30, 17, 0, 0, 0, time.UTC),
				time.Date(2019, 2, 1, 0, 0, 0, 0, time.UTC), fixedNow.Add(-20 * 24 * time.Hour),
				fixedNow.Add(-91*24*time.Hour - time.Hour), fixedNow.Add(-90 * 24 * time.Hour),
			}
			for i, c := range created {
				keys = append(keys, accessKey{User: fmt.Sprintf("user%d", i), KeyID: fmt.Sprintf("AKIA...%04d", i),
					Created: c.Format("2006-01-02T15:04:05"), Status: "Active"})
			}
			postCollector(t, s, "AWS_Access_Key_Report", keys)

			q1 := `AWS_Access_Key_Report_CL
| extend key_age = datetime_diff('day',now(),CreateDate_t)
| project Age=key_age,AccessKey=AccessKeyId_s, User=user_s
| where Age > 90
| sort by Age`
			code, resp := apiQuery(t, s, testCustomerID, q1, "", "")
			if code != 200 {
				t.Fatalf("status %d: %v", code, resp)
			}
			var want []string
			for i, c := range created {
				if age := calendarDays(fixedNow, c); age > 90 {
					want = append(want, fmt.Sprintf("%d|AKIA...%04d|user%d", age, i, i))
				}
			}
			var got []string
			var prev float64 = 1 << 62
			for _, r := range tableRows(t, resp) {
				age := r[0].(float64)
				if age > prev {
					t.Errorf("rows not sorted by Age descending: %v after %v", age, prev)
				}
				prev = age
				got = append(got, fmt.Sprintf("%v|%v|%v", age, r[1], r[2]))
			}
			if strings.Join(sortedCopy(got), ",") != strings.Join(sortedCopy(want), ",") {
				t.Errorf("keys older than 90 days:\n got %v\nwant %v", got, want)
			}

			q2 := `AWS_Access_Key_Report_CL
| make-series AccessKeys=count() default=0 on CreateDate_t from datetime(2019-01-01) to datetime(2020-01-01) step 1d`
			code, resp = apiQuery(t, s, testCustomerID, q2, "", "")
			if code != 200 {
				t.Fatalf("status %d: %v", code, resp)
			}
			rows := tableRows(t, resp)
			if len(rows) != 1 {
				t.Fatalf("make-series gave %d rows", len(rows))
			}
			var series []any
			if err := json.Unmarshal([]byte(rows[0][0].(string)), &series); err != nil {
				t.Fatalf("series column is not a JSON array string: %v", rows[0][0])
			}
			if len(series) != 365 {
				t.Fatalf("series has %d points, want 365 (one per day of 2019)", len(series))
			}
			perDay := map[int]float64{}
			for _, c := range created {
				if c.Year() == 2019 {
					perDay[c.YearDay()-1]++
				}
			}
			for i, v := range series {
				if v.(float64) != perDay[i] {
					t.Errorf("day %d: %v keys, want %v", i, v, perDay[i])
				}
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func TestQueryAPIErrorsAndOptions(t *testing.T) {
	s := newTestService(t, backends[0].open(t))
	postCollector(t, s, "Events", []map[string]any{{"n": 1}, {"n": 2}})
	cases := []struct {
		name, ws, query, timespan string
		status                    int
		code, inner               string
	}{
		{"syntax error", testCustomerID, "Events_CL | where (", "", 400, "BadArgumentError", "SyntaxError"},
		{"unknown table", testCustomerID, "Nope_CL | count", "", 400, "BadArgumentError", "SemanticError"},
		{"unknown column", testCustomerID, "Events_CL | project zzz", "", 400, "BadArgumentError", "SemanticError"},
		{"empty query", testCustomerID, "  ", "", 400, "BadArgumentError", "QueryValidationError"},
		{"bad timespan", testCustomerID, "Events_CL", "yesterday", 400, "BadArgumentError", "InvalidTimespan"},
		{"unknown workspace", "00000000-0000-0000-0000-000000000009", "Events_CL", "", 404, "WorkspaceNotFoundError", ""},
		{"not a workspace id", "abc", "Events_CL", "", 404, "WorkspaceNotFoundError", ""},
		{"garbage", testCustomerID, "\x00\xff|||", "", 400, "BadArgumentError", "SyntaxError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp := apiQuery(t, s, c.ws, c.query, c.timespan, "")
			e, _ := resp["error"].(map[string]any)
			inner, _ := e["innererror"].(map[string]any)
			if code != c.status || e["code"] != c.code || (c.inner != "" && inner["code"] != c.inner) {
				t.Errorf("got %d %v, want %d %s/%s", code, resp, c.status, c.code, c.inner)
			}
			if c.inner == "SyntaxError" && (inner["line"] == nil || inner["pos"] == nil) {
				t.Errorf("syntax error without position: %v", inner)
			}
		})
	}
	t.Run("GET with timespan", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/v1/workspaces/"+testCustomerID+"/query?query="+
			url.QueryEscape("Events_CL | summarize n=sum(n_d)")+"&timespan=PT1H", nil)
		w := httptest.NewRecorder()
		s.QueryHandler().ServeHTTP(w, r)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"rows":[[3]]`) {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
	})
	t.Run("timespan excludes older rows", func(t *testing.T) {
		_, resp := apiQuery(t, s, testCustomerID, "Events_CL | count", "2026-03-01T00:00:00Z/2026-03-02T00:00:00Z", "")
		if rows := tableRows(t, resp); rows[0][0].(float64) != 0 {
			t.Errorf("count in an interval before the rows = %v", rows[0][0])
		}
	})
	t.Run("several tables", func(t *testing.T) {
		code, raw := apiQuery(t, s, testCustomerID, "Events_CL | project n = toint(n_d) | fork (count) (where n > 1 | as Big); Events_CL | facet by n_d", "",
			"include-statistics=true")
		var resp struct {
			Tables []struct {
				Name string  `json:"name"`
				Rows [][]any `json:"rows"`
			} `json:"tables"`
			Statistics struct {
				Query struct {
					Sets []struct {
						Rows int `json:"tableRowCount"`
					} `json:"datasetStatistics"`
				} `json:"query"`
			} `json:"statistics"`
		}
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, &resp); err != nil || code != 200 {
			t.Fatalf("got %d %s", code, b)
		}
		var got []string
		for i, tab := range resp.Tables {
			got = append(got, fmt.Sprint(tab.Name, tab.Rows))
			if sets := resp.Statistics.Query.Sets; len(sets) != len(resp.Tables) || sets[i].Rows != len(tab.Rows) {
				t.Errorf("datasetStatistics %v for table %d", sets, i)
			}
		}
		if want := "PrimaryResult[[2]] Big[[2]] n_d[[1 1] [2 1]]"; strings.Join(got, " ") != want {
			t.Errorf("tables %s, want %s", strings.Join(got, " "), want)
		}
	})
	t.Run("Prefer include-render and statistics", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/v1/workspaces/"+testCustomerID+"/query",
			strings.NewReader(`{"query":"Events_CL | summarize count() by bin(TimeGenerated, 1h) | render timechart"}`))
		r.Header.Set("Prefer", "include-render=true, include-statistics=true, wait=30")
		w := httptest.NewRecorder()
		s.QueryHandler().ServeHTTP(w, r)
		var resp map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &resp)
		if w.Code != 200 || resp["render"] == nil || resp["statistics"] == nil {
			t.Errorf("got %d %s", w.Code, w.Body)
		}
		if pa := w.Header().Get("Preference-Applied"); !strings.Contains(pa, "include-render=true") {
			t.Errorf("Preference-Applied = %q", pa)
		}
	})
}

func TestParseTimespan(t *testing.T) {
	cases := []struct {
		in       string
		from, to time.Time
		bad      bool
	}{
		{"PT12H", fixedNow.Add(-12 * time.Hour), fixedNow, false},
		{"P1D", fixedNow.Add(-24 * time.Hour), fixedNow, false},
		{"P1DT2H30M", fixedNow.Add(-26*time.Hour - 30*time.Minute), fixedNow, false},
		{"2026-03-01T00:00:00Z/2026-03-02T00:00:00Z", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), false},
		{"2026-03-01T00:00:00Z/PT1H", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC), false},
		{"PT1H/2026-03-01T00:00:00Z", time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"P", time.Time{}, time.Time{}, true},
		{"PT", time.Time{}, time.Time{}, true},
		{"P1M", time.Time{}, time.Time{}, true},
		{"2026-03-02T00:00:00Z/2026-03-01T00:00:00Z", time.Time{}, time.Time{}, true},
	}
	for _, c := range cases {
		w, err := ParseTimespan(c.in, fixedNow)
		if c.bad {
			if err == nil {
				t.Errorf("%s: accepted", c.in)
			}
			continue
		}
		if err != nil || w.From != Ticks(c.from) || w.To != Ticks(c.to) {
			t.Errorf("%s: got %v..%v, %v", c.in, TimeOf(w.From), TimeOf(w.To), err)
		}
	}
}
