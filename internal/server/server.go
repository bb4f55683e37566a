package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is the HTTP side of Steward: the router the services mount on,
// the middleware chain, the probes and metrics, and the listener loop with
// graceful shutdown.
type Server struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	// Router is where services mount their handlers; /healthz, /readyz and
	// /metrics are mounted first.
	Router *Router

	mu     sync.Mutex
	checks []namedCheck
}

// New returns a Server for cfg that logs to log.
func New(cfg Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, now: time.Now, metrics: newMetrics(), Router: &Router{maxBody: cfg.MaxBodyBytes}}
	s.Router.HandleExact("healthz", "/healthz", http.HandlerFunc(serveHealthz))
	s.Router.HandleExact("readyz", "/readyz", http.HandlerFunc(s.serveReadyz))
	s.Router.HandleExact("metrics", "/metrics", s.metrics.handler())
	return s
}

// Handler returns the router wrapped in the middleware chain.
func (s *Server) Handler() http.Handler { return s.Middleware(s.Router) }

// Serve serves on ln (over TLS when tlsCfg is set) until ctx is done, then
// shuts down gracefully: it stops accepting, waits up to the configured
// shutdown timeout for requests in flight, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: cmp.Or(s.cfg.ReadHeaderTimeout, 10*time.Second),
		IdleTimeout:       2 * time.Minute,
		// Go answers headers past this with a plain-text 431; the smaller
		// limit of withHeaderLimit answers first, in the ARM envelope.
		MaxHeaderBytes: hardHeaderLimit,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig:      tlsCfg,
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// TLSConfig returns the serving TLS configuration for ca's certificate.
func TLSConfig(ca *LocalCA) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{ca.ServerCert},
		NextProtos:   []string{"h2", "http/1.1"},
	}
}
