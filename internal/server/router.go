package server

import (
	"net"
	"net/http"
	"path"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// Route sends the requests that Match selects to Handler. Name labels the
// route in logs and metrics (a fixed, low-cardinality string).
type Route struct {
	Name    string
	Match   func(r *http.Request) bool
	Handler http.Handler
	// MaxBodyBytes caps the request bodies of this route when an API
	// documents another limit than the server's (the Data Collector API
	// takes 30 MB); 0 means the server's limit.
	MaxBodyBytes int64
}

// Router dispatches requests to routes in the order they were added; the
// first match wins. Services share one port and are told apart by path,
// as Steward's clients reach ARM, the token service, the vault and logs
// through one base URL. Requests for one of Azure's host names (reached
// through the forward proxy) are routed by host first: see [Router.Host].
type Router struct {
	routes []Route
	hosts  []*hostRouter
	// maxBody is the server's body limit (Config.MaxBodyBytes), applied
	// to routes without their own; 0 means none.
	maxBody int64
}

// hostRouter is the sub-router of one host pattern.
type hostRouter struct {
	pattern string
	labels  []string
	router  *Router
}

// Host returns the router of the requests whose host name matches
// pattern, creating it on first use. A pattern is a host name whose
// labels may be globs ("*.vault.azure.net": any one label, then
// vault.azure.net; "*.*-1.ingest.monitor.azure.com"); it is compared
// case-insensitively and without the port. A request whose host matches a
// pattern is served by that pattern's routes only (404 when none matches),
// never by the path routes of Steward's own address. Services register
// Azure's host names here, for example:
//
//	s.Server.Router.Host("*.table.core.windows.net").Handle(Route{Name: "table", Handler: h,
//		Match: func(*http.Request) bool { return true }})
func (rt *Router) Host(pattern string) *Router {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	for _, h := range rt.hosts {
		if h.pattern == pattern {
			return h.router
		}
	}
	h := &hostRouter{pattern: pattern, labels: strings.Split(pattern, "."), router: &Router{maxBody: rt.maxBody}}
	rt.hosts = append(rt.hosts, h)
	return h.router
}

// match finds the host router for a host name (lower case, no port).
func (rt *Router) match(host string) *Router {
	if len(rt.hosts) == 0 || host == "" {
		return nil
	}
	labels := strings.Split(host, ".")
	for _, h := range rt.hosts {
		if len(h.router.routes) > 0 && labelsMatch(h.labels, labels) {
			return h.router
		}
	}
	return nil
}

func labelsMatch(pattern, labels []string) bool {
	if len(pattern) != len(labels) {
		return false
	}
	for i, p := range pattern {
		if p == labels[i] {
			continue
		}
		if ok, err := path.Match(p, labels[i]); err != nil || !ok || labels[i] == "" {
			return false
		}
	}
	return true
}

// ServesHost reports whether host (a host name or host:port) is one of
// the host names routes are registered for: what the forward proxy agrees
// to terminate.
func (rt *Router) ServesHost(host string) bool { return rt.match(hostName(host)) != nil }

// hostName lower-cases host and drops its port.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
}

// Handle adds a route.
func (rt *Router) Handle(r Route) { rt.routes = append(rt.routes, r) }

// HandlePrefix adds a route for the paths under prefix (compared
// case-insensitively, as ARM paths are). A prefix ending in "/" also
// matches the path without that slash.
func (rt *Router) HandlePrefix(name, prefix string, h http.Handler) {
	p := strings.ToLower(prefix)
	rt.Handle(Route{Name: name, Handler: h, Match: func(r *http.Request) bool {
		path := strings.ToLower(r.URL.Path)
		return strings.HasPrefix(path, p) || (strings.HasSuffix(p, "/") && path == strings.TrimSuffix(p, "/"))
	}})
}

// HandleExact adds a route for exactly one path.
func (rt *Router) HandleExact(name, path string, h http.Handler) {
	rt.Handle(Route{Name: name, Handler: h, Match: func(r *http.Request) bool { return r.URL.Path == path }})
}

// ServeHTTP implements http.Handler. Unmatched paths get a 404 ARM
// envelope.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hr := rt.match(hostName(r.Host)); hr != nil {
		hr.ServeHTTP(w, r)
		return
	}
	for _, route := range rt.routes {
		if route.Match(r) {
			if info := infoFrom(r.Context()); info != nil {
				info.route = route.Name
			}
			limit := route.MaxBodyBytes
			if limit == 0 {
				limit = rt.maxBody
			}
			if limit > 0 {
				withBodyLimit(limit, route.Handler).ServeHTTP(w, r)
				return
			}
			route.Handler.ServeHTTP(w, r)
			return
		}
	}
	arm.WriteError(w, arm.NotFound("NotFound", "The requested path is not served by Steward."))
}
