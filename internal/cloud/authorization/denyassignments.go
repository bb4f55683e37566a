package authorization

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
)

// serveDenyAssignments answers deny assignments, which are read only
// through the API (Azure creates them for managed applications and
// deployment stacks; Steward writes them with cloud.Put).
func (p *Provider) serveDenyAssignments(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	if call.Method != http.MethodGet && call.Method != http.MethodHead {
		call.SkipAuthorization()
		return nil, methodNotAllowed(call.Method)
	}
	if t.Collection {
		return p.listDenyAssignments(ctx, call)
	}
	if err := call.Authorize(ctx, cloud.TypeDenyAssignment+"/read", t.ID); err != nil {
		return nil, err
	}
	r, err := p.get(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, arm.NotFound("DenyAssignmentNotFound", "The deny assignment '%s' is not found.", t.Name)
	}
	return &cloud.Response{Status: http.StatusOK, Body: r.Doc}, nil
}

// listDenyAssignments lists the deny assignments at, above and below a
// scope (atScope(): at and above), optionally one principal's or by name.
func (p *Provider) listDenyAssignments(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	scope := scopeOf(call.Target.Scope)
	if err := call.Authorize(ctx, cloud.TypeDenyAssignment+"/read", scope); err != nil {
		return nil, err
	}
	f, err := cloud.ParseFuncFilter(call.Query.Get("$filter"), []string{"atscope"}, []string{"principalid", "denyassignmentname"})
	if err != nil {
		return nil, err
	}
	anc := p.ancestry(scope)
	return p.listStored(ctx, call, cloud.TypeDenyAssignment, func(r cloud.Resource) bool {
		if v, ok := f.Eq["denyassignmentname"]; ok && !strings.EqualFold(stringAt(r.Doc, "properties", "denyAssignmentName"), v) {
			return false
		}
		if v, ok := f.Eq["principalid"]; ok && !denyNames(r.Doc, v) {
			return false
		}
		s := stringAt(r.Doc, "properties", "scope")
		if s == "" {
			s = scopeFromID(r.ID)
		}
		return p.atOrAbove(anc, s) || (!f.Has("atscope") && arm.IsScopeAncestor(scope, s))
	})
}

// denyNames reports whether a deny assignment lists the principal (or
// everyone, the all-zero system-defined principal).
func denyNames(doc map[string]any, principal string) bool {
	props, _ := doc["properties"].(map[string]any)
	list, _ := props["principals"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		id, _ := m["id"].(string)
		if strings.EqualFold(id, principal) || id == "00000000-0000-0000-0000-000000000000" {
			return true
		}
	}
	return false
}
