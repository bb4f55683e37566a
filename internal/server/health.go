package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is a readiness check: nil when the dependency it watches works.
type Check func(ctx context.Context) error

// AddReadiness registers a named readiness check for /readyz.
func (s *Server) AddReadiness(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, namedCheck{name, c})
}

type namedCheck struct {
	name  string
	check Check
}

// serveHealthz answers liveness: the process serves requests.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// serveReadyz runs every readiness check with a short timeout and answers
// 200 when all pass, 503 otherwise, naming the failing checks (their error
// text goes to the log, not to the caller).
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	s.mu.Lock()
	checks := append([]namedCheck(nil), s.checks...)
	s.mu.Unlock()
	failed := []string{}
	for _, c := range checks {
		if err := c.check(ctx); err != nil {
			failed = append(failed, c.name)
			s.log.WarnContext(ctx, "readiness check failed", "check", c.name, "err", err.Error())
		}
	}
	status, code := "ok", http.StatusOK
	if len(failed) > 0 {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "failed": failed})
}
