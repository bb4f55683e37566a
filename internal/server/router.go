package server

import (
	"net/http"
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
// through one base URL.
type Router struct {
	routes []Route
	// maxBody is the server's body limit (Config.MaxBodyBytes), applied
	// to routes without their own; 0 means none.
	maxBody int64
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
