package logs

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
)

// testKey is base64("0123456789abcdef0123456789abcdef").
const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

const testCustomerID = "5b0f9a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"

// Vectors computed with seed 002's Python build_signature, unmodified.
func TestSignatureMatchesSeedPythonBuildSignature(t *testing.T) {
	cases := []struct {
		date   string
		length int64
		want   string
	}{
		{"Mon, 04 Apr 2016 08:00:00 GMT", 1024, "rMoVf9OAAVQU+RTRgO9GQOxWZzlOmtlVQV6VV5+bUg0="},
		{"Tue, 10 Mar 2026 12:00:00 GMT", 168, "/YLlfrMAH9RUwCzJNGtRXE/DFjg3EpQVyy0kWT7qIoM="},
	}
	for _, c := range cases {
		got, err := Signature(testKey, "POST", c.length, "application/json", c.date)
		if err != nil || got != c.want {
			t.Errorf("Signature(%s, %d) = %q, %v; want %q", c.date, c.length, got, err, c.want)
		}
	}
}

// seedBody is the body the seed 002 vector above signs: json.dumps of one
// access-key record.
const seedBody = `[{"loggedDate": "2019-05-05", "user": "alice", "account_number": "123456789012", "AccessKeyId": "AKIA...WXYZ", "CreateDate": "2019-01-15T10:00:00", "Status": "Active"}]`

// newTestService returns a service with one workspace whose keys are known.
func newTestService(t *testing.T, st store.Store) *Service {
	t.Helper()
	return newTestServiceAt(t, st, clock)
}

// newTestServiceAt is newTestService with the clock now.
func newTestServiceAt(t *testing.T, st store.Store, now func() time.Time) *Service {
	t.Helper()
	s := New(st, Options{Now: now})
	ws := Workspace{ResourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws",
		CustomerID: testCustomerID, PrimaryKey: testKey, SecondaryKey: testKey}
	err := st.Update(context.Background(), func(tx store.Tx) error {
		if err := putJSON(context.Background(), tx, workspacesTable, ws.CustomerID, ws); err != nil {
			return err
		}
		_, err := tx.Put(context.Background(), wsByIDTable, strings.ToLower(ws.ResourceID), []byte(ws.CustomerID), store.Cond{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collectorRequest builds a signed Data Collector request.
func collectorRequest(t *testing.T, logType, body string, date time.Time, edit func(*http.Request)) *http.Request {
	t.Helper()
	d := date.UTC().Format(http.TimeFormat)
	sig, err := Signature(testKey, "POST", int64(len(body)), "application/json", d)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "https://"+testCustomerID+".ods.opinsights.azure.com/api/logs?api-version=2016-04-01", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Log-Type", logType)
	r.Header.Set("x-ms-date", d)
	r.Header.Set("Authorization", "SharedKey "+testCustomerID+":"+sig)
	if edit != nil {
		edit(r)
	}
	return r
}

func TestCollectorAcceptsSeedSignature(t *testing.T) {
	s := newTestService(t, backends[0].open(t))
	r := collectorRequest(t, "AWS_Access_Key_Report", seedBody, fixedNow, func(r *http.Request) {
		r.Header.Set("Authorization", "SharedKey "+testCustomerID+":/YLlfrMAH9RUwCzJNGtRXE/DFjg3EpQVyy0kWT7qIoM=")
	})
	w := httptest.NewRecorder()
	s.CollectorHandler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	tab, err := s.Rows.Table(context.Background(), testCustomerID, "AWS_Access_Key_Report_CL")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range tab.Columns {
		names = append(names, c.Name+":"+c.Type.String())
	}
	want := "TimeGenerated:datetime TenantId:string SourceSystem:string Type:string _ResourceId:string loggedDate_s:string user_s:string account_number_s:string AccessKeyId_s:string CreateDate_t:datetime Status_s:string"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("columns:\n got %s\nwant %s", got, want)
	}
}

func TestCollectorErrors(t *testing.T) {
	s := newTestService(t, backends[0].open(t))
	cases := []struct {
		name   string
		edit   func(*http.Request)
		date   time.Time
		status int
		code   string
	}{
		{"missing api-version", func(r *http.Request) { r.URL.RawQuery = "" }, fixedNow, 400, "MissingApiVersion"},
		{"wrong api-version", func(r *http.Request) { r.URL.RawQuery = "api-version=2020-01-01" }, fixedNow, 400, "InvalidApiVersion"},
		{"unknown workspace", func(r *http.Request) { r.Host = "00000000-0000-0000-0000-000000000001.ods.opinsights.azure.com" }, fixedNow, 400, "InvalidCustomerId"},
		{"no workspace", func(r *http.Request) { r.Host = "localhost" }, fixedNow, 400, "InvalidCustomerId"},
		{"missing content type", func(r *http.Request) { r.Header.Del("Content-Type") }, fixedNow, 400, "MissingContentType"},
		{"wrong content type", func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, fixedNow, 400, "UnsupportedContentType"},
		{"missing log type", func(r *http.Request) { r.Header.Del("Log-Type") }, fixedNow, 400, "MissingLogType"},
		{"bad log type", func(r *http.Request) { r.Header.Set("Log-Type", "my-log") }, fixedNow, 400, "InvalidLogType"},
		{"long log type", func(r *http.Request) { r.Header.Set("Log-Type", strings.Repeat("a", 101)) }, fixedNow, 400, "InvalidLogType"},
		{"bad date", func(r *http.Request) { r.Header.Set("x-ms-date", "yesterday") }, fixedNow, 403, "InvalidAuthorization"},
		{"skewed date", nil, fixedNow.Add(-16 * time.Minute), 403, "InvalidAuthorization"},
		{"bad signature", func(r *http.Request) { r.Header.Set("Authorization", "SharedKey "+testCustomerID+":AAAA") }, fixedNow, 403, "InvalidAuthorization"},
		{"other workspace in header", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testCustomerID, "x", 1))
		}, fixedNow, 403, "InvalidAuthorization"},
		{"signed other content type", func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") }, fixedNow, 403, "InvalidAuthorization"},
		{"wrong method", func(r *http.Request) { r.Method = "PUT" }, fixedNow, 405, "MethodNotAllowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := collectorRequest(t, "Good", `[{"a":1}]`, c.date, c.edit)
			w := httptest.NewRecorder()
			s.CollectorHandler().ServeHTTP(w, r)
			var body struct{ Error, Message string }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != c.status || body.Error != c.code {
				t.Errorf("got %d %s (%s), want %d %s", w.Code, body.Error, body.Message, c.status, c.code)
			}
		})
	}
	bodies := []struct{ name, body string }{
		{"invalid json", `[{"a":`},
		{"array of numbers", `[1,2]`},
		{"reserved property", `[{"TimeGenerated":"x"}]`},
		{"bad property name", `[{"a b":1}]`},
	}
	for _, c := range bodies {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.CollectorHandler().ServeHTTP(w, collectorRequest(t, "Good", c.body, fixedNow, nil))
			if w.Code != 400 || !strings.Contains(w.Body.String(), "InvalidDataFormat") {
				t.Errorf("got %d %s, want 400 InvalidDataFormat", w.Code, w.Body)
			}
		})
	}
}

func TestCollectorColumnTyping(t *testing.T) {
	s := newTestService(t, backends[0].open(t))
	post := func(body string, edit func(*http.Request)) {
		t.Helper()
		w := httptest.NewRecorder()
		s.CollectorHandler().ServeHTTP(w, collectorRequest(t, "Typed", body, fixedNow, edit))
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	// The documented example: a first post fixes number_d, boolean_b and
	// string_s; later string values that convert land in those columns;
	// unconvertible ones create columns with their own suffix.
	post(`[{"number":1.5,"boolean":true,"string":"x","id":"8145d82213a744ad859c36f31a84f6dd","when":"2026-03-09T10:00:00Z","nested":{"a":[1,2]},"gone":null}]`, nil)
	post(`[{"number":"2","boolean":"false","string":"y"}]`, nil)
	post(`[{"number":"abc","boolean":"maybe"}]`, nil)
	post(`[{"event":"e","eventTime":"2026-03-10T11:30:00Z"}]`, func(r *http.Request) { r.Header.Set("time-generated-field", "eventTime") })
	post(`[{"event":"old","eventTime":"2020-01-01T00:00:00Z"}]`, func(r *http.Request) { r.Header.Set("time-generated-field", "eventTime") })
	src := s.Rows.Source(testCustomerID, Window{})
	checks := []struct{ q, want string }{
		{"Typed_CL | where isnotempty(string_s) | project number_d, boolean_b, string_s", "1.5|True|'x' 2|False|'y'"},
		{"Typed_CL | where isnotempty(number_s) | project number_s, boolean_s", "'abc'|'maybe'"},
		{"Typed_CL | where isnotnull(id_g) | project id_g, when_t, nested_s", "'8145d822-13a7-44ad-859c-36f31a84f6dd'|2026-03-09T10:00:00.0000000Z|'{\"a\":[1,2]}'"},
		{"Typed_CL | where isnotempty(event_s) | project event_s, TimeGenerated", "'e'|2026-03-10T11:30:00.0000000Z 'old'|2026-03-10T12:00:00.0000000Z"},
		{"Typed_CL | summarize count() by SourceSystem, TenantId", "'RestAPI'|'" + testCustomerID + "'|5"},
	}
	for _, c := range checks {
		got := strings.Join(resultText(runQuery(t, src, c.q)), " ")
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.q, got, c.want)
		}
	}
	if _, err := s.Rows.Table(context.Background(), testCustomerID, "Typed_CL"); err != nil {
		t.Fatal(err)
	}
}
