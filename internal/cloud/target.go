package cloud

import (
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// Pseudo resource types of the paths that carry no provider segment.
const (
	TypeSubscription     = "Microsoft.Resources/subscriptions"
	TypeResourceGroup    = "Microsoft.Resources/subscriptions/resourceGroups"
	TypeResources        = "Microsoft.Resources/resources"
	TypeOperationResult  = "Microsoft.Resources/operationResults"
	TypeManagementGroup  = "Microsoft.Management/managementGroups"
	TypeMGSubscription   = "Microsoft.Management/managementGroups/subscriptions"
	TypeTags             = "Microsoft.Resources/tags"
	TypeProvider         = "Microsoft.Resources/providers"
	TypeRoleAssignment   = "Microsoft.Authorization/roleAssignments"
	TypeRoleDefinition   = "Microsoft.Authorization/roleDefinitions"
	TypeDenyAssignment   = "Microsoft.Authorization/denyAssignments"
	maxPathLen           = 4096
	maxPathSegments      = 64
	operationResultsWord = "operationresults"
)

// Target is what a request path addresses: one resource (ID set), a
// collection of a type in a scope (Collection), or an action on a resource
// (Action set).
type Target struct {
	// ID is the canonical ID of the resource addressed, or of the resource
	// an action is on; "" for a collection.
	ID string
	// Resource is ID parsed (nil for a collection).
	Resource *arm.ResourceID
	// Type is the full resource type of the resource or collection.
	Type string
	// Name is the resource's name ("" for a collection).
	Name string
	// Scope is where the resource or collection sits: the parent scope of a
	// resource, the scope listed by a collection.
	Scope string
	// Collection is set for a list of Type in Scope.
	Collection bool
	// Action is the name of a POST action, such as "queryResults".
	Action string
}

// AccessScope is the scope an access check of the target is made at: the
// resource itself, or the scope a collection lists.
func (t Target) AccessScope() string {
	if t.Collection {
		return t.Scope
	}
	return t.ID
}

// parseTarget turns a request path into a Target. The registry is consulted
// to tell an action from a collection: a trailing segment after a name is
// an action when a route registers it or the method is POST.
func parseTarget(method, path string, reg *registry) (Target, error) {
	if len(path) > maxPathLen || strings.Count(path, "/") > maxPathSegments {
		return Target{}, badURI(path)
	}
	if strings.ContainsAny(path, "?#\x00") {
		return Target{}, badURI(path)
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, s := range segs {
		if s == "" || strings.TrimSpace(s) != s {
			return Target{}, badURI(path)
		}
	}
	if t, ok, err := containerTarget(segs, path); ok || err != nil {
		return t, err
	}
	r, err := arm.ParseResourceID("/" + strings.Join(segs, "/"))
	if err != nil {
		return Target{}, badURI(path)
	}
	switch r.Kind() {
	case arm.ScopeRoot:
		return Target{}, badURI(path)
	case arm.ScopeManagementGroup, arm.ScopeSubscription, arm.ScopeResourceGroup:
		return instanceTarget(r), nil
	}
	n, t := len(r.Names), len(r.Types)
	switch {
	case t == 0:
		// /subscriptions/{s}/providers/{ns}: a resource provider.
		return Target{ID: r.String(), Resource: r, Type: TypeProvider, Name: r.Namespace,
			Scope: containerOf(r).String()}, nil
	case t == n:
		if !validNames(r) {
			return Target{}, badURI(path)
		}
		return instanceTarget(r), nil
	}
	// One type segment more than names: a collection or an action.
	last := r.Types[t-1]
	if n == 0 && r.Parent == nil && method == http.MethodPost && (strings.EqualFold(last, "register") || strings.EqualFold(last, "unregister")) {
		// POST /subscriptions/{s}/providers/{ns}/register
		p := *r
		p.Types = nil
		tg := Target{ID: p.String(), Resource: &p, Type: TypeProvider, Name: r.Namespace, Scope: containerOf(&p).String(),
			Action: strings.ToLower(last)}
		return tg, nil
	}
	inst := *r
	inst.Types = r.Types[:n]
	if n > 0 && (method == http.MethodPost || reg.hasAction(inst.ResourceType(), last)) {
		if !validNames(&inst) {
			return Target{}, badURI(path)
		}
		tg := instanceTarget(&inst)
		tg.Action = last
		return tg, nil
	}
	if !validTypeWord(last) || (n > 0 && !validNames(&inst)) || (n == 0 && !validTypeWord(r.Namespace)) {
		return Target{}, badURI(path)
	}
	scope := containerOf(&inst)
	if n > 0 {
		scope = &inst
	}
	return Target{Type: r.ResourceType(), Scope: scope.String(), Collection: true}, nil
}

// containerTarget recognizes the paths under subscriptions that are not
// resource IDs: lists of subscriptions, resource groups, resources and
// resource providers, and operation results.
func containerTarget(segs []string, path string) (Target, bool, error) {
	eq := strings.EqualFold
	switch {
	case len(segs) == 1 && eq(segs[0], "subscriptions"):
		return Target{Type: TypeSubscription, Scope: "/", Collection: true}, true, nil
	case len(segs) == 3 && eq(segs[0], "subscriptions") && eq(segs[2], "resourceGroups"):
		return Target{Type: TypeResourceGroup, Scope: "/subscriptions/" + segs[1], Collection: true}, true, nil
	case len(segs) == 3 && eq(segs[0], "subscriptions") && eq(segs[2], "providers"):
		return Target{Type: TypeProvider, Scope: "/subscriptions/" + segs[1], Collection: true}, true, nil
	case len(segs) == 3 && eq(segs[0], "subscriptions") && eq(segs[2], "resources"):
		return Target{Type: TypeResources, Scope: "/subscriptions/" + segs[1], Collection: true}, true, nil
	case len(segs) == 5 && eq(segs[0], "subscriptions") && eq(segs[2], "resourceGroups") && eq(segs[4], "resources"):
		return Target{Type: TypeResources, Scope: "/subscriptions/" + segs[1] + "/resourceGroups/" + segs[3],
			Collection: true}, true, nil
	case (len(segs) == 7 || len(segs) == 8) && eq(segs[0], "subscriptions") && eq(segs[2], "resourceGroups") &&
		eq(segs[4], "deployments") && eq(segs[6], "operations"):
		// The resource-group form of deployment operations has no
		// provider segment (DeploymentOperations_List).
		dep := "/subscriptions/" + segs[1] + "/resourceGroups/" + segs[3] + "/providers/Microsoft.Resources/deployments/" + segs[5]
		if len(segs) == 7 {
			return Target{Type: TypeDeploymentOperation, Scope: dep, Collection: true}, true, nil
		}
		return Target{ID: dep + "/operations/" + segs[7], Type: TypeDeploymentOperation, Name: segs[7], Scope: dep}, true, nil
	case len(segs) == 4 && eq(segs[0], "subscriptions") && eq(segs[2], operationResultsWord):
		scope := "/subscriptions/" + segs[1]
		return Target{ID: scope + "/operationresults/" + segs[3], Type: TypeOperationResult, Name: segs[3],
			Scope: scope}, true, nil
	case len(segs) >= 5 && eq(segs[0], "providers") && eq(segs[1], "Microsoft.Management") &&
		eq(segs[2], "managementGroups") && eq(segs[4], "subscriptions"):
		mg := "/providers/Microsoft.Management/managementGroups/" + segs[3]
		switch len(segs) {
		case 5:
			return Target{Type: TypeMGSubscription, Scope: mg, Collection: true}, true, nil
		case 6:
			return Target{ID: mg + "/subscriptions/" + segs[5], Type: TypeMGSubscription, Name: segs[5],
				Scope: mg}, true, nil
		}
		return Target{}, true, badURI(path)
	}
	return Target{}, false, nil
}

func instanceTarget(r *arm.ResourceID) Target {
	return Target{ID: r.String(), Resource: r, Type: r.ResourceType(), Name: r.Name(),
		Scope: containerOf(r).String()}
}

// containerOf is the scope a resource sits in: its parent resource, the
// resource it extends, or its resource group, subscription or management
// group.
func containerOf(r *arm.ResourceID) *arm.ResourceID {
	if p := r.ParentScope(); p != nil {
		return p
	}
	return &arm.ResourceID{}
}

// validNames rejects what ARM cannot route: namespaces and types other
// than letters, digits, '.', '-' and '_' (they become store keys joined by
// '|'), names longer than 260 bytes or holding control characters; empty
// names and the provider keyword are caught by the parser.
func validNames(r *arm.ResourceID) bool {
	for p := r; p != nil; p = p.Parent {
		if p.Namespace != "" && !validTypeWord(p.Namespace) {
			return false
		}
		for _, t := range p.Types {
			if !validTypeWord(t) {
				return false
			}
		}
		for _, n := range p.Names {
			if len(n) > 260 || strings.IndexFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				return false
			}
		}
	}
	return len(r.Names) == len(r.Types)
}

func validTypeWord(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func badURI(path string) error {
	if len(path) > 200 {
		path = path[:200] + "..."
	}
	return arm.BadRequest("InvalidRequestUri", "The request URI '%s' is not valid.", path)
}
