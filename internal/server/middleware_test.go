package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func testServer(t *testing.T) (*Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 1024
	s := New(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	s.Router.HandlePrefix("panic", "/panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	s.Router.HandlePrefix("echo", "/echo/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(r.Body); err != nil {
			http.Error(w, "too big", http.StatusRequestEntityTooLarge)
			return
		}
		w.Write(buf.Bytes())
	}))
	return s, &logs
}

func do(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func armCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var env struct{ Error struct{ Code string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("not an ARM envelope: %s", rec.Body)
	}
	return env.Error.Code
}

func TestMiddlewareBehaviours(t *testing.T) {
	s, logs := testServer(t)
	h := s.Handler()
	cases := []struct {
		name   string
		method string
		target string
		body   string
		status int
		code   string
	}{
		{"panic becomes 500 envelope", "GET", "/panic", "", 500, "InternalServerError"},
		{"declared oversized body is 413", "POST", "/echo/x", strings.Repeat("a", 2000), 413, "RequestEntityTooLarge"},
		{"unknown path is 404 envelope", "GET", "/nowhere", "", 404, "NotFound"},
		{"healthz", "GET", "/healthz", "", 200, ""},
		{"readyz without checks", "GET", "/readyz", "", 200, ""},
		{"routes match case-insensitively", "POST", "/ECHO/x", "hi", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := do(h, c.method, c.target, c.body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			if c.code != "" && armCode(t, rec) != c.code {
				t.Errorf("code %s, want %s", armCode(t, rec), c.code)
			}
			if rec.Header().Get("x-ms-request-id") == "" {
				t.Error("no x-ms-request-id")
			}
		})
	}
	// Every request logged one JSON line; none carries the query string.
	do(h, "GET", "/healthz?sig=SECRET", "")
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	requests := 0
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if m["msg"] == "request" {
			requests++
		}
	}
	if requests != len(cases)+1 || strings.Contains(logs.String(), "SECRET") {
		t.Errorf("%d request log lines for %d requests; log:\n%s", requests, len(cases)+1, logs)
	}
	metrics := do(h, "GET", "/metrics", "").Body.String()
	for _, want := range []string{`steward_http_requests_total{code="500",method="GET",route="panic"} 1`,
		`steward_http_panics_total 1`, `route="echo"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestStreamedBodyOverLimitIsCut(t *testing.T) {
	s, _ := testServer(t)
	req := httptest.NewRequest("POST", "/echo/x", strings.NewReader(strings.Repeat("a", 2000)))
	req.ContentLength = -1 // unknown length: the reader must stop it
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d", rec.Code)
	}
}

func TestReadyzReportsFailingCheck(t *testing.T) {
	s, _ := testServer(t)
	s.AddReadiness("store", func(ctx context.Context) error { return errors.New("down: secret detail") })
	rec := do(s.Handler(), "GET", "/readyz", "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"store"`) ||
		strings.Contains(rec.Body.String(), "secret detail") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
