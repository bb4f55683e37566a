package cloud

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// serveProvider answers GET {scope}/providers/{namespace}, POST
// .../register and GET /subscriptions/{s}/providers: every namespace is
// registered in Steward, since generic resources of any type are
// accepted, and registering changes nothing.
func (c *Cloud) serveProvider(_ context.Context, call *Call) (*Response, error) {
	if call.Target.Collection {
		if call.Method != http.MethodGet {
			return nil, methodNotAllowed(call.Method)
		}
		return c.serveProviderList(call)
	}
	if (call.Method != http.MethodGet || call.Target.Action != "") && (call.Method != http.MethodPost || call.Target.Action == "") {
		return nil, methodNotAllowed(call.Method)
	}
	return &Response{Status: http.StatusOK, Body: c.providerDoc(call.Target.ID, call.Target.Name)}, nil
}

// serveProviderList answers GET /subscriptions/{s}/providers with the
// namespaces Steward has routes for, in case-insensitive order, each as
// serveProvider shows it, paged by $top and $skiptoken (the last
// namespace of the page before).
func (c *Cloud) serveProviderList(call *Call) (*Response, error) {
	size, after, err := call.Paging()
	if err != nil {
		return nil, err
	}
	out := List{Value: []any{}}
	next := ""
	for _, ns := range c.routes.namespaces() {
		if after != "" && strings.ToLower(ns) <= strings.ToLower(after) {
			continue
		}
		if len(out.Value) == size {
			next = c.lastNamespace(out)
			break
		}
		out.Value = append(out.Value, c.providerDoc(call.Target.Scope+"/providers/"+ns, ns))
	}
	out.NextLink = call.NextLink(next)
	return &Response{Status: http.StatusOK, Body: out}, nil
}

// lastNamespace is the namespace of the last provider of a page.
func (c *Cloud) lastNamespace(l List) string {
	doc, _ := l.Value[len(l.Value)-1].(map[string]any)
	ns, _ := doc["namespace"].(string)
	return ns
}

// providerDoc is a provider as ARM shows it: registered, with the types
// of the namespace Steward has routes for.
func (c *Cloud) providerDoc(id, ns string) map[string]any {
	types := []any{}
	for _, t := range c.routes.typesOf(ns) {
		types = append(types, map[string]any{"resourceType": t, "locations": []any{}})
	}
	return map[string]any{
		"id": id, "namespace": ns, "registrationState": "Registered",
		"registrationPolicy": "RegistrationRequired", "resourceTypes": types,
	}
}

// namespaces returns the namespaces of the registered routes, once each,
// in case-insensitive order.
func (r *registry) namespaces() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]string{}
	for _, rt := range r.routes {
		ns, _, _ := strings.Cut(rt.Type, "/")
		seen[strings.ToLower(ns)] = ns
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = seen[k]
	}
	return out
}

// typesOf returns the resource types (without the namespace) of the
// routes of namespace ns, once each, sorted.
func (r *registry) typesOf(ns string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for _, rt := range r.routes {
		n, typ, _ := strings.Cut(rt.Type, "/")
		if strings.EqualFold(n, ns) && !slices.Contains(out, typ) {
			out = append(out, typ)
		}
	}
	slices.Sort(out)
	return out
}
