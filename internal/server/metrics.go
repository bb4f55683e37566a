package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/steward-gov/steward/internal/identity"
)

// metrics are the server's Prometheus instruments, on a registry of its
// own so tests and several servers in one process do not collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	panics   prometheus.Counter
	tokens   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_http_requests_total",
			Help: "HTTP requests served, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "steward_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "steward_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_http_panics_total",
			Help: "Handler panics recovered into 500 responses.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_token_requests_total",
			Help: "Token endpoint requests, by client credential (secret, assertion, none) and result (ok or the AADSTS code).",
		}, []string{"credential", "result"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.panics, m.tokens,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// knownMethods bounds the method label's cardinality.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

func (m *metrics) observe(route, method string, code int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// observeToken counts a token request; the label values are bounded by
// the token service's fixed set of credentials and error codes.
func (m *metrics) observeToken(o identity.TokenOutcome) {
	result := "ok"
	switch {
	case o.AADSTS < 0:
		result = "error"
	case o.AADSTS > 0:
		result = "AADSTS" + strconv.Itoa(o.AADSTS)
	}
	m.tokens.WithLabelValues(o.Credential, result).Inc()
}

// ObserveToken is the identity.Options.Observe hook that feeds
// steward_token_requests_total.
func (s *Server) ObserveToken(o identity.TokenOutcome) { s.metrics.observeToken(o) }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
