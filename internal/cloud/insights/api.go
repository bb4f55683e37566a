package insights

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
)

// Resource types of the provider.
const (
	TypePolicyStates    = "Microsoft.PolicyInsights/policyStates"
	TypeAsyncOperations = "Microsoft.PolicyInsights/asyncOperationResults"
)

// APIVersions are the Microsoft.PolicyInsights api-versions of the policy
// states operations (generated from the specs in internal/arm).
var APIVersions = arm.TypeAPIVersions(TypePolicyStates)

func (e *Engine) routes() cloud.Routes {
	return cloud.Routes{
		{Type: TypePolicyStates, Action: "queryResults", APIVersions: APIVersions, SelfAuthorize: true, Handler: e.serveQuery},
		{Type: TypePolicyStates, Action: "summarize", APIVersions: APIVersions, SelfAuthorize: true, Handler: e.serveSummarize},
		{Type: TypePolicyStates, Action: "triggerEvaluation", APIVersions: APIVersions, SelfAuthorize: true, Handler: e.serveTrigger},
		{Type: TypeAsyncOperations, APIVersions: APIVersions, SelfAuthorize: true, Handler: e.serveOperation},
	}
}

// target is the scope a policyStates request is about.
type target struct {
	// scope is the ARM ID before /providers/Microsoft.PolicyInsights.
	scope string
	// prefix is the state-key prefix to read; keep narrows what it holds.
	prefix string
	keep   func(*State) bool
	// access is where the caller needs read access.
	access string
	parsed *arm.ResourceID
}

// resolveTarget works out what states a request's scope covers.
func resolveTarget(call *cloud.Call) (*target, error) {
	id := call.Target.ID
	i := strings.LastIndex(strings.ToLower(id), "/providers/microsoft.policyinsights/")
	if i < 0 {
		return nil, arm.BadRequest("InvalidRequestUri", "The request URI is not valid.")
	}
	scope := id[:i]
	if scope == "" {
		return nil, arm.BadRequest("InvalidRequestUri", "Policy states are queried at a management group, subscription, resource group or resource.")
	}
	r, err := arm.ParseResourceID(scope)
	if err != nil {
		return nil, arm.BadRequest("InvalidRequestUri", "The request URI is not valid.")
	}
	t := &target{scope: scope, access: scope, parsed: r}
	within := func(p string) func(*State) bool {
		p = strings.ToLower(p)
		return func(s *State) bool {
			id := strings.ToLower(s.ResourceID)
			return id == p || strings.HasPrefix(id, p+"/")
		}
	}
	typ := strings.ToLower(r.ResourceType())
	switch {
	case r.Kind() == arm.ScopeManagementGroup:
		mg := r.ManagementGroup
		t.keep = func(s *State) bool { return containsFold(s.ManagementGroups, mg) }
	case typ == strings.ToLower(TypeAssignment):
		t.prefix = strings.ToLower(assignmentScope(scope))
		t.keep = func(s *State) bool { return arm.EqualIDs(s.AssignmentID, scope) }
	case typ == strings.ToLower(TypeDefinition) || typ == strings.ToLower(TypeSetDefinition):
		container := r.ParentScope()
		if container == nil || container.Kind() != arm.ScopeSubscription {
			return nil, arm.BadRequest("InvalidRequestUri", "Policy states of a definition are queried at its subscription.")
		}
		t.prefix = strings.ToLower(container.String())
		name, set := r.Name(), typ == strings.ToLower(TypeSetDefinition)
		in := within(container.String())
		t.keep = func(s *State) bool {
			if !in(s) {
				return false
			}
			if set {
				return s.SetDefinitionID != "" && strings.EqualFold(lastName(s.SetDefinitionID), name)
			}
			return strings.EqualFold(lastName(s.DefinitionID), name)
		}
	default:
		t.prefix = strings.ToLower(scope)
		t.keep = within(scope)
	}
	return t, nil
}

// authorize lets the caller in with the read or the action permission of
// an operation (Reader holds */read; custom roles may grant the action).
func authorize(ctx context.Context, call *cloud.Call, op, scope string) error {
	if err := call.Authorize(ctx, "Microsoft.PolicyInsights/policyStates/"+op+"/read", scope); err == nil {
		return nil
	}
	return call.Authorize(ctx, "Microsoft.PolicyInsights/policyStates/"+op+"/action", scope)
}

// prepare checks the method, the policyStates resource name, access and
// the scope's existence, and parses the query.
func (e *Engine) prepare(ctx context.Context, call *cloud.Call, op string, latestOnly bool) (*target, *Query, error) {
	if call.Method != http.MethodPost {
		return nil, nil, notSupportedMethod(call.Method, op)
	}
	name := call.Target.Name
	if !strings.EqualFold(name, "latest") && (latestOnly || !strings.EqualFold(name, "default")) {
		allowed := "'latest' or 'default'"
		if latestOnly {
			allowed = "'latest'"
		}
		return nil, nil, arm.BadRequest("InvalidPolicyStatesResource", "The policy states resource '%s' is not valid: use %s.", truncate(name, 40), allowed)
	}
	t, err := resolveTarget(call)
	if err != nil {
		return nil, nil, err
	}
	if err := authorize(ctx, call, op, t.access); err != nil {
		return nil, nil, err
	}
	if err := e.cloud.RequireScope(ctx, t.parsed); err != nil {
		return nil, nil, err
	}
	q, err := parseQuery(call.Query, e.now())
	if err != nil {
		return nil, nil, err
	}
	q.Latest = strings.EqualFold(name, "latest")
	q.Scope, q.Keep = t.scope, t.keep
	return t, q, nil
}

// queryResults is the PolicyStatesQueryResults envelope.
type queryResults struct {
	Context  string           `json:"@odata.context"`
	Count    int              `json:"@odata.count"`
	NextLink *string          `json:"@odata.nextLink"`
	Value    []map[string]any `json:"value"`
}

func (e *Engine) serveQuery(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t, q, err := e.prepare(ctx, call, "queryResults", false)
	if err != nil {
		return nil, err
	}
	skip, _ := queryParam(call.Query, "$skiptoken")
	tok, err := decodePageToken(skip)
	if err != nil {
		return nil, err
	}
	page, err := e.Run(ctx, q, t.prefix, tok)
	if err != nil {
		return nil, err
	}
	base := call.BaseURL() + t.scope + "/providers/Microsoft.PolicyInsights/policyStates/$metadata#" + strings.ToLower(call.Target.Name)
	out := queryResults{Context: base, Count: len(page.Rows), Value: make([]map[string]any, len(page.Rows))}
	for i, r := range page.Rows {
		out.Value[i] = render(r, q, base+"/$entity")
	}
	if page.Next != "" {
		link := call.NextLink(page.Next)
		out.NextLink = &link
	}
	return &cloud.Response{Status: http.StatusOK, Body: out}, nil
}
