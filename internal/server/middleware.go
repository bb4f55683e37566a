package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/arm"
)

// requestInfo travels in a request's context from the outermost
// middleware inward; inner layers fill it (the router sets route) and the
// outer ones read it after the handler returns.
type requestInfo struct {
	id    string
	route string
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	i, _ := ctx.Value(infoKey{}).(*requestInfo)
	return i
}

// RequestID returns the x-ms-request-id of the request ctx belongs to, or
// "" outside a request.
func RequestID(ctx context.Context) string {
	if i := infoFrom(ctx); i != nil {
		return i.id
	}
	return ""
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withRequestID gives every request an ID, sent back as x-ms-request-id,
// and echoes the client's x-ms-client-request-id and correlation ID as ARM
// does.
func withRequestID(newID func() string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newID()
		h := w.Header()
		h.Set("x-ms-request-id", id)
		if c := r.Header.Get("x-ms-client-request-id"); c != "" && len(c) <= 200 {
			h.Set("x-ms-client-request-id", c)
		}
		corr := r.Header.Get("x-ms-correlation-request-id")
		if corr == "" || len(corr) > 200 {
			corr = id
		}
		h.Set("x-ms-correlation-request-id", corr)
		// The token service reads x-ms-request-id as its trace ID.
		r.Header.Set("x-ms-request-id", id)
		ctx := context.WithValue(r.Context(), infoKey{}, &requestInfo{id: id, route: "none"})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withLogAndMetrics logs one JSON line per request and records its
// metrics. It logs the path without the query string and never headers or
// bodies, so tokens, secrets and SAS signatures stay out of the logs.
func withLogAndMetrics(log *slog.Logger, m *metrics, now func() time.Time, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := now()
		sw := &statusWriter{ResponseWriter: w}
		m.inFlight.Inc()
		defer m.inFlight.Dec()
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := now().Sub(start)
		info := infoFrom(r.Context())
		route := "none"
		id := ""
		if info != nil {
			route, id = info.route, info.id
		}
		m.observe(route, r.Method, sw.status, d)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", id),
			// Set by withRequestID (the client's, bounded, or the request ID).
			slog.String("correlation_id", w.Header().Get("x-ms-correlation-request-id")),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// withRecovery turns a panic in a handler into a 500 ARM envelope (when
// nothing was written yet) and an error log with the stack.
func withRecovery(log *slog.Logger, m *metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			m.panics.Inc()
			log.ErrorContext(r.Context(), "handler panic", "request_id", RequestID(r.Context()),
				"path", r.URL.Path, "panic", slog.AnyValue(p).String(), "stack", string(debug.Stack()))
			if sw.status == 0 {
				arm.WriteError(sw, arm.ErrInternal)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// withBodyLimit rejects bodies declared larger than max with 413 and caps
// the rest while they are read.
func withBodyLimit(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			arm.WriteError(w, arm.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"The request body is larger than the limit of %d bytes.", max))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// Middleware wraps h in Steward's standard chain, outermost first:
// request ID, logging and metrics, panic recovery, header size limit, body
// read deadline. The body size limit is the router's, per route.
func (s *Server) Middleware(h http.Handler) http.Handler {
	h = withBodyDeadline(s.cfg.BodyReadTimeout, h)
	h = withHeaderLimit(s.headerLimit(), h)
	h = withRecovery(s.log, s.metrics, h)
	h = withLogAndMetrics(s.log, s.metrics, s.now, h)
	return withRequestID(func() string { return uuid.NewString() }, h)
}
