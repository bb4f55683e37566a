package cloud

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Handler serves the requests of a Route. It returns the response to send,
// or an error: an *arm.Error is sent as its envelope, anything else as a
// 500 without its text.
type Handler func(ctx context.Context, call *Call) (*Response, error)

// Response is what a Handler answers with. Body is encoded as JSON unless
// nil; ETag, when set, is sent as the ETag header.
type Response struct {
	Status int
	Body   any
	ETag   string
	Header http.Header
}

// Route registers a Handler for a resource type, or for an action on
// resources of a type. Requests for types no route claims are generic
// resources.
type Route struct {
	// Type is the full resource type, such as
	// "Microsoft.Authorization/roleAssignments".
	Type string
	// Action, when set, makes the route serve that action on resources of
	// Type ({id}/{action}, such as policyStates/latest/queryResults),
	// whatever the method; empty serves the type's instances and
	// collections.
	Action string
	// APIVersions are the versions the type accepts; empty accepts any
	// well-formed version.
	APIVersions []string
	// SelfAuthorize says the handler checks access itself with
	// Call.Authorize (to pass condition attributes, or to filter a list
	// item by item). Otherwise the Cloud checks the action the method
	// implies ({type}/read, /write, /delete, /{action}/action) at the
	// target before calling Handler. A self-authorizing handler that
	// succeeds without calling Authorize is a bug, answered with a 500.
	SelfAuthorize bool
	// Handler serves the requests.
	Handler Handler
}

// Provider is a resource provider: a set of routes, typically for one
// namespace.
type Provider interface {
	Routes() []Route
}

// registry holds the routes by type and action, keyed case-insensitively.
type registry struct {
	mu     sync.RWMutex
	routes map[string]*Route
}

func newRegistry() *registry { return &registry{routes: map[string]*Route{}} }

func routeKey(typ, action string) string { return typeKey(typ) + "#" + strings.ToLower(action) }

func typeKey(typ string) string { return strings.ToLower(typ) }

func (r *registry) add(rt Route) error {
	if rt.Type == "" || rt.Handler == nil {
		return fmt.Errorf("cloud: route needs a type and a handler")
	}
	if strings.Count(rt.Type, "/") < 1 {
		return fmt.Errorf("cloud: route type %q is not {namespace}/{type}", rt.Type)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := routeKey(rt.Type, rt.Action)
	if _, dup := r.routes[k]; dup {
		return fmt.Errorf("cloud: a route for %s %s is already registered", rt.Type, rt.Action)
	}
	r.routes[k] = &rt
	return nil
}

func (r *registry) lookup(typ, action string) *Route {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.routes[routeKey(typ, action)]
}

func (r *registry) hasAction(typ, action string) bool {
	return action != "" && r.lookup(typ, action) != nil
}

// Register adds the routes of providers. It fails when a type or action is
// claimed twice. Register before serving.
func (c *Cloud) Register(providers ...Provider) error {
	for _, p := range providers {
		for _, rt := range p.Routes() {
			if err := c.routes.add(rt); err != nil {
				return err
			}
		}
	}
	return nil
}

// Serves reports whether a route claims the instances and collections of
// the resource type (otherwise they are generic resources).
func (c *Cloud) Serves(typ string) bool { return c.routes.lookup(typ, "") != nil }

// Routes is a Provider made of a fixed list of routes.
type Routes []Route

// Routes implements Provider.
func (r Routes) Routes() []Route { return r }
