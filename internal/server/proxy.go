package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Timeouts of the forward proxy's connections (outer and tunnelled).
const (
	proxyReadHeaderTimeout = 10 * time.Second
	proxyReadTimeout       = 2 * time.Minute
	proxyIdleTimeout       = 2 * time.Minute
)

// PlainHTTPHosts are the host names the proxy serves over plain HTTP:
// the instance metadata service, which clients reach with http://.
var PlainHTTPHosts = []string{IMDSHost}

// IMDSHost is the Azure Instance Metadata Service's address.
const IMDSHost = "169.254.169.254"

// ProxyOptions configure a [Proxy].
type ProxyOptions struct {
	// Router decides which host names are served (Router.ServesHost).
	Router *Router
	// Handler serves the requests (the main port's handler, with its
	// middleware).
	Handler http.Handler
	// Leaves issues the certificates presented for Azure's host names.
	Leaves *LeafCache
	// Allow lists the client networks allowed to use the proxy; empty
	// means loopback only.
	Allow []netip.Prefix
	// Logger receives refusals and connection errors.
	Logger *slog.Logger
}

// Proxy is Steward's HTTP forward proxy for Azure's host names. Clients
// reach it through HTTPS_PROXY / HTTP_PROXY. A CONNECT to a host Steward
// serves (management.azure.com, {vault}.vault.azure.net, ...) is answered
// 200 and the tunnel is terminated with a leaf certificate for that host
// from Steward's CA; the requests inside are served by the same handler as
// the main port, routed by host. A plain-HTTP request is served only for
// the metadata service's address. Everything else is refused with 403 and
// a one-line reason: the proxy never dials out.
type Proxy struct {
	opts  ProxyOptions
	inner *http.Server
	conns *connQueue

	// Refused counts refused requests and CONNECTs; Tunnels counts
	// accepted CONNECTs.
	Refused, Tunnels atomic.Int64
}

// NewProxy returns a proxy for opts.
func NewProxy(opts ProxyOptions) *Proxy {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{opts: opts, conns: newConnQueue()}
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveTunnelled),
		ReadHeaderTimeout: proxyReadHeaderTimeout,
		ReadTimeout:       proxyReadTimeout,
		IdleTimeout:       proxyIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				if t, ok := tc.NetConn().(*tunnelConn); ok {
					return context.WithValue(ctx, tunnelKey{}, t.info)
				}
			}
			return ctx
		},
	}
	return p
}

// tunnelInfo is what the proxy knows of a tunnel: the CONNECT host and
// the proxy credentials the client presented.
type tunnelInfo struct {
	host       string
	credential ProxyCredential
}

type tunnelKey struct{}

// ProxyCredential is the user name and password a client presented to the
// proxy (Proxy-Authorization: Basic, from credentials in HTTPS_PROXY /
// HTTP_PROXY). Steward uses them to bind a managed identity to a shell,
// not to admit clients.
type ProxyCredential struct {
	User, Password string
}

type proxyCredKey struct{}

// ProxyCredentialFrom returns the proxy credential of the request in ctx,
// when it came through the proxy with one.
func ProxyCredentialFrom(ctx context.Context) (ProxyCredential, bool) {
	c, ok := ctx.Value(proxyCredKey{}).(ProxyCredential)
	return c, ok && c.User != ""
}

// parseProxyAuth reads a Proxy-Authorization: Basic header.
func parseProxyAuth(h string) ProxyCredential {
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return ProxyCredential{}
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return ProxyCredential{}
	}
	u, pw, _ := strings.Cut(string(b), ":")
	return ProxyCredential{User: u, Password: pw}
}

// Serve serves the proxy on ln until ctx is done.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	outer := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: proxyReadHeaderTimeout,
		ReadTimeout:       proxyReadTimeout,
		IdleTimeout:       proxyIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(p.opts.Logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	p.inner.BaseContext = outer.BaseContext
	errc := make(chan error, 2)
	go func() { errc <- outer.Serve(ln) }()
	go func() { errc <- p.inner.Serve(p.conns) }()
	select {
	case err := <-errc:
		outer.Close()
		p.inner.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := outer.Shutdown(sctx)
	if ierr := p.inner.Shutdown(sctx); err == nil {
		err = ierr
	}
	return err
}

// ServeHTTP serves the proxy's own requests: CONNECT, absolute-form
// plain-HTTP requests, and a 400 for anything addressed to the proxy
// itself.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.allowed(r.RemoteAddr) {
		p.refuse(w, r, "", "the client address is not in --proxy-allow")
		return
	}
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if r.URL.Host == "" {
		http.Error(w, "This is Steward's forward proxy for Azure's host names: set HTTPS_PROXY to it (steward env) rather than calling it directly.", http.StatusBadRequest)
		return
	}
	host := hostName(r.URL.Host)
	if r.URL.Scheme != "http" || !p.plainHost(host) || !p.opts.Router.ServesHost(host) {
		reason := fmt.Sprintf("%s is not an Azure endpoint Steward serves over plain HTTP; requests are never forwarded", host)
		if p.opts.Router.ServesHost(host) {
			reason = fmt.Sprintf("%s is served over HTTPS only: use https:// (CONNECT)", host)
		}
		p.refuse(w, r, host, reason)
		return
	}
	cred := parseProxyAuth(r.Header.Get("Proxy-Authorization"))
	out := r.Clone(context.WithValue(r.Context(), proxyCredKey{}, cred))
	removeHopHeaders(out.Header)
	out.Host = r.URL.Host
	out.RequestURI = r.URL.RequestURI()
	out.URL.Scheme, out.URL.Host = "", ""
	p.opts.Handler.ServeHTTP(w, out)
}

func (p *Proxy) plainHost(host string) bool {
	for _, h := range PlainHTTPHosts {
		if h == host {
			return true
		}
	}
	return false
}

// connect answers a CONNECT: a host Steward serves, on port 443, gets a
// tunnel terminated here; anything else 403.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "443"
	}
	host = hostName(host)
	switch {
	case !p.opts.Router.ServesHost(host):
		p.refuse(w, r, host, fmt.Sprintf("%s is not an Azure endpoint Steward serves; the proxy never tunnels to other hosts", host))
		return
	case port != "443":
		p.refuse(w, r, host, fmt.Sprintf("%s is served on port 443 only, not %s", host, port))
		return
	}
	cert, err := p.opts.Leaves.Get(host)
	if err != nil {
		p.opts.Logger.Error("proxy: leaf certificate", "host", host, "err", err.Error())
		http.Error(w, "steward proxy: no certificate for "+host, http.StatusInternalServerError)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "steward proxy: CONNECT needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	p.Tunnels.Add(1)
	tc := &tunnelConn{Conn: conn, r: buf.Reader,
		info: tunnelInfo{host: host, credential: parseProxyAuth(r.Header.Get("Proxy-Authorization"))}}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName != "" && hostName(hello.ServerName) != host {
				return nil, fmt.Errorf("steward proxy: TLS server name %q does not match the CONNECT host %q", hello.ServerName, host)
			}
			return cert, nil
		},
	}
	if !p.conns.push(tls.Server(tc, cfg)) {
		conn.Close()
	}
}

// serveTunnelled serves a request that came through a tunnel: its Host
// must be the tunnel's.
func (p *Proxy) serveTunnelled(w http.ResponseWriter, r *http.Request) {
	t, _ := r.Context().Value(tunnelKey{}).(tunnelInfo)
	if t.host == "" || hostName(r.Host) != t.host {
		http.Error(w, fmt.Sprintf("steward proxy: request for %q inside a tunnel to %q", r.Host, t.host), http.StatusMisdirectedRequest)
		return
	}
	cred := t.credential
	if c := parseProxyAuth(r.Header.Get("Proxy-Authorization")); c.User != "" {
		cred = c
	}
	r.Header.Del("Proxy-Authorization")
	p.opts.Handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), proxyCredKey{}, cred)))
}

// refuse answers 403 with a one-line reason, and logs it.
func (p *Proxy) refuse(w http.ResponseWriter, r *http.Request, host, reason string) {
	p.Refused.Add(1)
	p.opts.Logger.Info("proxy refused", "method", r.Method, "host", host, "remote", r.RemoteAddr, "reason", reason)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "steward proxy: %s\n", reason)
}

// allowed reports whether a client address may use the proxy.
func (p *Proxy) allowed(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	if len(p.opts.Allow) == 0 {
		return addr.IsLoopback()
	}
	for _, pre := range p.opts.Allow {
		if pre.Contains(addr) {
			return true
		}
	}
	return false
}

// hopHeaders are the hop-by-hop headers a proxy drops (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Authenticate",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// tunnelConn is a hijacked CONNECT connection; reads drain what the
// proxy's reader had buffered first.
type tunnelConn struct {
	net.Conn
	r    *bufio.Reader
	info tunnelInfo
}

func (c *tunnelConn) Read(b []byte) (int, error) {
	if c.r != nil && c.r.Buffered() > 0 {
		return c.r.Read(b)
	}
	return c.Conn.Read(b)
}

// connQueue is a net.Listener fed with the tunnels' TLS connections, so
// one http.Server serves them all.
type connQueue struct {
	ch     chan net.Conn
	done   chan struct{}
	once   sync.Once
	closed atomic.Bool
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return proxyAddr{} }

type proxyAddr struct{}

func (proxyAddr) Network() string { return "tunnel" }
func (proxyAddr) String() string  { return "steward-proxy-tunnel" }

// ParseAllow parses a --proxy-allow list: comma-separated CIDR prefixes or
// addresses.
func ParseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if !strings.Contains(s, "/") {
				a, err := netip.ParseAddr(s)
				if err != nil {
					errs = append(errs, fmt.Errorf("proxy allow %q: not a CIDR prefix or address", s))
					continue
				}
				out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			pre, err := netip.ParsePrefix(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("proxy allow %q: not a CIDR prefix or address", s))
				continue
			}
			out = append(out, pre.Masked())
		}
	}
	return out, errors.Join(errs...)
}
