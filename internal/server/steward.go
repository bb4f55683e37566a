package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/identity/graph"
	"github.com/steward-gov/steward/internal/logs"
	"github.com/steward-gov/steward/internal/logs/kql"
	"github.com/steward-gov/steward/internal/reports"
	"github.com/steward-gov/steward/internal/seal"
	"github.com/steward-gov/steward/internal/store"
)

// Steward is the assembled embedded cloud: store, token service, local CA
// and HTTP server, listening and ready to Run.
type Steward struct {
	Config Config
	Server *Server
	Store  store.Store
	// Sealer seals every secret the services keep in the store (signing
	// keys, workspace keys, vault values) under the root key.
	Sealer    *seal.Sealer
	Identity  *identity.Service
	CA        *LocalCA
	Bootstrap identity.BootstrapInfo
	// Cloud is the embedded ARM (the management API), set when CloudService
	// is among Open's services; services after it register on it.
	Cloud *cloud.Cloud
	// Graph is the Microsoft Graph API over the directory, mounted at
	// graph.MountPath; a host router mounts it at the root of
	// graph.microsoft.com.
	Graph *graph.Handler
	// BaseURL is the public base URL ("https://localhost:8443/"): the
	// authority host and the ARM endpoint.
	BaseURL string
	// ProxyURL is the forward proxy's URL ("http://127.0.0.1:8444"), empty
	// when the proxy is off.
	ProxyURL string
	// Proxy is the forward proxy for Azure's host names, nil when off.
	Proxy    *Proxy
	listener net.Listener
	proxyLn  net.Listener
	lock     *dataDirLock
	log      *slog.Logger
	// background are the workers services started with Background: run
	// while the server serves, stopped before the store closes.
	background []func(context.Context)
	// ReplicaID names this process in the leases its services take (a
	// new GUID per Open), so that shutdown can hand them all back.
	ReplicaID string
	queues    *queueCollector
	// usage records data-plane use for the access report (usageRecorder).
	usage     *reports.UsageRecorder
	usageOnce sync.Once
	// vaultAudit buffers vault audit events for VaultLogService (nil
	// when it is not mounted).
	vaultAudit atomic.Pointer[vaultAuditBuffer]
	// geoIP is the IP geolocation database of Config.Queries.GeoIPDB,
	// read at Open and shared by every query (nil when none is named).
	geoIP *kql.GeoIPDB
}

// LoginHosts are Entra's public-cloud host names that Steward's token
// service answers as, through the proxy.
var LoginHosts = []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com"}

// B2CHosts are Azure AD B2C's host names ({tenant}.b2clogin.com), which
// the token service answers as, through the proxy: a user flow is served
// at https://{tenant}.b2clogin.com/{tenant}.onmicrosoft.com/{user_flow}.
var B2CHosts = []string{"*.b2clogin.com"}

// GraphHost is Microsoft Graph's public-cloud host name.
const GraphHost = "graph.microsoft.com"

// ManagementHosts are Azure Resource Manager's public-cloud host names.
var ManagementHosts = []string{"management.azure.com", "management.core.windows.net"}

// loginAuthorities are the token-service base URLs of LoginHosts.
func loginAuthorities() []string {
	out := make([]string, len(LoginHosts))
	for i, h := range LoginHosts {
		out[i] = "https://" + h + "/"
	}
	return out
}

// Background registers a worker that runs while the Steward serves (from
// Run until shutdown), such as the alerts evaluator. Call it from a
// Service, before Run.
func (s *Steward) Background(f func(context.Context)) { s.background = append(s.background, f) }

// periodic starts a background worker that runs pass at once, then every
// period and whenever wake fires, until ctx is done; each pass has 5
// periods and a minute. With final, one more pass runs after ctx is done
// (the store closes only after the background workers return).
func (s *Steward) periodic(every time.Duration, wake <-chan struct{}, final bool, pass func(context.Context)) {
	s.Background(func(ctx context.Context) {
		run := func(ctx context.Context) {
			pctx, cancel := context.WithTimeout(ctx, 5*every+time.Minute)
			defer cancel()
			pass(pctx)
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			run(ctx)
			select {
			case <-ctx.Done():
				if final {
					run(context.WithoutCancel(ctx))
				}
				return
			case <-t.C:
			case <-wake:
			}
		}
	})
}

// usageRecorder returns the recorder of data-plane use, started once as
// a background worker; services call it when they mount.
func (s *Steward) usageRecorder() *reports.UsageRecorder {
	s.usageOnce.Do(func() {
		s.usage = reports.NewUsageRecorder(s.Store, 0, nil)
		s.Background(s.usage.Run)
	})
	return s.usage
}

// ARMAudiences are the token audiences Steward's management API accepts:
// Azure Resource Manager's resource identifiers, plus Steward's own base
// URL.
func ARMAudiences(baseURL string) []string {
	return []string{"https://management.azure.com", "https://management.core.windows.net", baseURL}
}

// Service mounts one of Steward's services (the management API, the
// vault, logs, ...) on an opened Steward: it typically builds its handler
// from s.Store, s.Bootstrap and s.Authenticate, and adds a Route to
// s.Server.Router. Services are mounted after the token service, in the
// order given to Open.
type Service func(ctx context.Context, s *Steward) error

// Open prepares a Steward for cfg: it listens on cfg.Listen (a busy port
// is a *ListenError, before anything is created), creates the data
// directory and, on SQLite, locks it (ErrDataDirInUse while another serve
// holds it), creates the local CA, opens the store, bootstraps the home
// tenant and mounts the token service, then services. Call Run to serve,
// or Close to give up.
func Open(ctx context.Context, cfg Config, log *slog.Logger, services ...Service) (*Steward, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The IP geolocation database is read before anything is bound or
	// created: a file that cannot be used stops the start cleanly.
	geoIP, err := cfg.Queries.openGeoIP()
	if err != nil {
		return nil, err
	}
	// The port first, so that a busy one leaves nothing behind; then the
	// data directory, locked before anything in it is read or written.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, &ListenError{Addr: cfg.Listen, Err: err, Flag: "--listen"}
	}
	var pln net.Listener
	if addr := cfg.ProxyAddr(cfg.Listen); addr != "" {
		if pln, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			return nil, &ListenError{Addr: addr, Err: err, Flag: "--proxy"}
		}
	}
	closeListeners := func() {
		ln.Close()
		if pln != nil {
			pln.Close()
		}
	}
	lock, err := openDataDir(cfg, log)
	if err != nil {
		closeListeners()
		return nil, err
	}
	s, err := open(ctx, cfg, log, ln, lock)
	if err != nil {
		closeListeners()
		lock.release()
		return nil, err
	}
	s.geoIP = geoIP
	if pln != nil {
		s.proxyLn = LimitConnsPerIP(pln, cfg.MaxConnsPerIP)
		s.ProxyURL = "http://" + pln.Addr().String()
	}
	for _, mount := range services {
		if err := mount(ctx, s); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.startProxy(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openDataDir creates the data directory (private) and, on SQLite, takes
// its exclusive lock: one serve per SQLite store. PostgreSQL replicas
// share their store by design and lock nothing here.
func openDataDir(cfg Config, log *slog.Logger) (*dataDirLock, error) {
	if err := ensurePrivateDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(cfg.Store(), "sqlite:") {
		return nil, nil
	}
	return lockDataDir(cfg.DataDir)
}

// ListenError is Open's error when the listen address cannot be bound
// (typically: the port is in use). Nothing was created then.
type ListenError struct {
	Addr string
	Err  error
	// Flag names the setting of the address (--listen or --proxy).
	Flag string
}

// Error names the address and the cause.
func (e *ListenError) Error() string { return fmt.Sprintf("cannot listen on %s: %v", e.Addr, e.Err) }

// Unwrap returns the cause.
func (e *ListenError) Unwrap() error { return e.Err }

// open assembles the Steward on a bound listener and a locked data
// directory; the caller releases both when it fails.
func open(ctx context.Context, cfg Config, log *slog.Logger, ln net.Listener, lock *dataDirLock) (*Steward, error) {
	var hosts []string
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err == nil {
			hosts = append(hosts, u.Hostname())
		}
	}
	st, err := store.Open(ctx, cfg.Store())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := store.CheckSchema(ctx, st, MigrationSets()...); err != nil {
		st.Close()
		return nil, err
	}
	// Log tables serve every service that writes logs (Logs, the activity
	// log, reports), so their migration runs here rather than at a mount.
	if err := st.Migrate(ctx, logs.Schema()); err != nil {
		st.Close()
		return nil, fmt.Errorf("logs: schema: %w", err)
	}
	sealer, moved, err := seal.OpenForDataDir(ctx, st, cfg.KeySource(os.LookupEnv), cfg.DataDir, rand.Reader)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("root key: %w", err)
	}
	if moved {
		src := cfg.KeySource(os.LookupEnv)
		where, _ := src.Path()
		if name, ok := src.FromEnv(); ok {
			where = name
		}
		log.Info("moved the root key out of the data directory", "removed", seal.LegacyRootKeyFile, "rootKey", where)
	}
	// The CA's and the serving certificate's private keys are sealed like
	// every other secret, so a copy of the data directory alone is useless.
	ca, err := EnsureSealedCA(ctx, cfg.DataDir, hosts, time.Now(), rand.Reader, sealer)
	if err != nil {
		sealer.Close()
		st.Close()
		return nil, err
	}
	ln = LimitConnsPerIP(ln, cfg.MaxConnsPerIP)
	s := &Steward{Config: cfg, Store: st, Sealer: sealer, CA: ca, listener: ln, log: log, BaseURL: cfg.BaseURL(ln.Addr().String()), lock: lock,
		ReplicaID: "replica-" + uuid.NewString()}
	if err := s.assemble(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Steward) assemble(ctx context.Context) error {
	s.Server = New(s.Config, s.log)
	s.queues = newQueueCollector(s.Store, s.log)
	s.Server.metrics.reg.MustRegister(s.queues)
	s.Identity = identity.NewService(identity.StoreRecords{Store: s.Store}, identity.Options{
		AuthorityHost: s.BaseURL,
		// Clients configured with a custom cloud may name Steward's own URL
		// as the ARM audience.
		Resources:      append(append([]string(nil), identity.DefaultResources...), s.BaseURL, s.GraphURL()),
		TokenLifetime:  s.Config.TokenLifetime,
		Logger:         s.log.With("component", "identity"),
		Observe:        s.Server.ObserveToken,
		CredentialUsed: credentialUsed(s.usageRecorder()),
		Hosts:          append(append([]string(nil), LoginHosts...), B2CHosts...),
		Sealer:         s.Sealer,
	})
	if n, err := s.Identity.Keys().SealClearKeys(ctx); err != nil {
		return fmt.Errorf("sealing signing keys: %w", err)
	} else if n > 0 {
		s.log.Info("sealed token-signing keys stored in clear by an older version", "count", n)
	}
	info, created, err := s.Identity.Bootstrap(ctx, identity.BootstrapConfig{
		DataDir:       s.Config.DataDir,
		AuthorityHost: s.BaseURL,
		ARMEndpoint:   s.BaseURL,
		CACertPath:    s.CA.CACertPath,
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	s.Bootstrap = info
	if created {
		s.log.Info("bootstrapped home tenant", "tenant", info.TenantID, "client_id", info.ClientID,
			"subscription", info.SubscriptionID)
	}
	s.Server.AddReadiness("store", func(ctx context.Context) error {
		return s.Store.View(ctx, func(store.Tx) error { return nil })
	})
	idRoute := Route{Name: "identity", Handler: s.Identity.Handler(),
		Match: func(r *http.Request) bool { return identity.Matches(r.URL.Path) }}
	s.Server.Router.Handle(idRoute)
	for _, h := range LoginHosts {
		s.Server.Router.Host(h).Handle(idRoute)
	}
	for _, h := range B2CHosts {
		s.Server.Router.Host(h).Handle(idRoute)
	}
	s.Server.Router.HandleExact("steward", "/steward/whoami", s.Authenticate(http.HandlerFunc(serveWhoami)))
	s.Graph = graph.New(graph.Options{Identity: s.Identity, HomeTenant: s.Bootstrap.TenantID, Validator: s.Validator(GraphAudiences(s.BaseURL)...),
		CredentialActivity: credentialActivity(s)})
	s.Server.Router.Handle(Route{Name: "graph", Handler: s.Graph, Match: graph.Matches})
	// graph.microsoft.com through the proxy: Graph at the host's root.
	s.Server.Router.Host(GraphHost).Handle(Route{Name: "graph", Handler: s.Graph, Match: func(*http.Request) bool { return true }})
	s.Server.Router.HandleExact("steward-tenants", graph.TenantsPath, s.Graph.TenantsHandler())
	return nil
}

// GraphURL is Microsoft Graph's base URL on Steward's main port,
// "{BaseURL}graph/": its resource ID, and the base clients append
// "v1.0/..." to.
func (s *Steward) GraphURL() string {
	return s.BaseURL + strings.TrimPrefix(graph.MountPath, "/") + "/"
}

// GraphAudiences are the token audiences Steward's Graph accepts:
// Microsoft Graph's resource ID and Steward's own Graph URL.
func GraphAudiences(baseURL string) []string {
	return []string{graph.DefaultResource, baseURL + strings.TrimPrefix(graph.MountPath, "/")}
}

// Validator returns a token validator for Steward's APIs that accepts the
// given audiences and tokens issued by this Steward.
func (s *Steward) Validator(audiences ...string) *identity.Validator {
	return &identity.Validator{
		Keys:      s.Identity.Keys(),
		Issuer:    func(tid string) string { return identity.IssuerFor(s.BaseURL, tid) },
		Audiences: audiences,
		// Tokens obtained through the proxy from login.microsoftonline.com
		// name that host as issuer, as Entra's do.
		Authorities: loginAuthorities(),
		// The challenge names this Steward's token service, as ARM's names
		// login.windows.net.
		AuthorizationURI: s.BaseURL,
	}
}

// Authenticate wraps h with bearer-token authentication for Steward's
// management API (ARM audiences): the principal lands in the request
// context (identity.PrincipalFrom), failures are 401 ARM envelopes.
func (s *Steward) Authenticate(h http.Handler) http.Handler {
	return s.Validator(ARMAudiences(s.BaseURL)...).Middleware(h)
}

// Addr is the address the server listens on.
func (s *Steward) Addr() net.Addr { return s.listener.Addr() }

// Transport returns an in-process transport to this Steward's handler.
func (s *Steward) Transport() InProcessTransport {
	return InProcessTransport{Handler: s.Server.Handler()}
}

// Run serves until ctx is done, shuts down gracefully, closes the store
// and releases the data directory.
func (s *Steward) Run(ctx context.Context) error {
	var tlsCfg = TLSConfig(s.CA)
	if s.Config.InsecureHTTP {
		tlsCfg = nil
	}
	s.log.Info("serving", "addr", s.listener.Addr().String(), "url", s.BaseURL, "tls", tlsCfg != nil)
	pruneDone := make(chan struct{})
	pruneCtx, stopPrune := context.WithCancel(ctx)
	go func() {
		defer close(pruneDone)
		s.pruneLoop(pruneCtx, 10*time.Minute)
	}()
	var workers sync.WaitGroup
	for _, f := range s.background {
		workers.Add(1)
		go func() {
			defer workers.Done()
			f(pruneCtx)
		}()
	}
	proxyDone := make(chan error, 1)
	if s.Proxy != nil {
		s.log.Info("proxy serving", "addr", s.proxyLn.Addr().String())
		go func() { proxyDone <- s.Proxy.Serve(ctx, s.proxyLn) }()
	} else {
		proxyDone <- nil
	}
	err := s.Server.Serve(ctx, s.listener, tlsCfg)
	stopPrune()
	<-pruneDone
	if perr := <-proxyDone; err == nil && perr != nil && !errors.Is(perr, http.ErrServerClosed) {
		err = perr
	}
	workers.Wait()
	s.handBack()
	if cerr := s.Store.Close(); err == nil {
		err = cerr
	}
	s.Sealer.Close()
	// The data directory is free again: a later Open in this process (a
	// restart) may take it.
	s.lock.release()
	return err
}

// pruneLoop forgets expired client-assertion records every interval.
func (s *Steward) pruneLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Identity.PruneAssertions(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning spent client assertions", "err", err.Error())
			} else if n > 0 {
				s.log.Debug("pruned spent client assertions", "count", n)
			}
			if n, err := s.Identity.PruneSignIns(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning expired sign-in sessions, codes and refresh tokens", "err", err.Error())
			} else if n > 0 {
				s.log.Debug("pruned expired sign-in records", "count", n)
			}
		}
	}
}

// Close releases the listener and the store without serving.
func (s *Steward) Close() error {
	s.listener.Close()
	if s.proxyLn != nil {
		s.proxyLn.Close()
	}
	if s.Cloud != nil {
		s.Cloud.StopDeployments()
	}
	err := s.Store.Close()
	s.Sealer.Close()
	s.lock.release()
	return err
}

// ensurePrivateDir creates the data directory 0700, and tightens one that
// exists with wider permissions: it holds the store, the CA key and the
// administrator's credentials.
func ensurePrivateDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, perm&0o700); err != nil {
			return fmt.Errorf("data directory %s has mode %v and cannot be made private: %w", dir, perm, err)
		}
		log.Info("tightened the data directory's permissions", "dir", dir, "was", perm.String(), "now", (perm & 0o700).String())
	}
	return nil
}

// serveWhoami answers with the caller's principal, so a user can check
// that their credentials reach Steward (`curl` with a token, or the SDK).
func serveWhoami(w http.ResponseWriter, r *http.Request) {
	p, _ := identity.PrincipalFrom(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"objectId": p.ObjectID, "tenantId": p.TenantID, "appId": p.AppID,
		"groups": p.Groups, "identityType": p.IdentityType, "audience": p.Audience,
	})
}

// startProxy builds the forward proxy over the assembled router, when a
// proxy listener is open, and records the endpoints for `steward env`.
func (s *Steward) startProxy() error {
	if s.proxyLn != nil {
		leaves, err := NewLeafCache(s.CA, rand.Reader, nil)
		if err != nil {
			return err
		}
		allow, err := ParseAllow(s.Config.ProxyAllow)
		if err != nil {
			return err
		}
		s.Proxy = NewProxy(ProxyOptions{Router: s.Server.Router, Handler: s.Server.Handler(), Leaves: leaves,
			Allow: allow, Logger: s.log.With("component", "proxy")})
	}
	return WriteEndpoints(s.Config.DataDir, Endpoints{URL: s.BaseURL, Proxy: s.ProxyURL})
}
