package authorization

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/cloud"
)

// permissionEntry is one element of the permissions list: the
// permissions of one role the caller holds at the scope.
type permissionEntry struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
	Condition      string   `json:"condition,omitempty"`
	// ConditionVersion accompanies Condition.
	ConditionVersion string `json:"conditionVersion,omitempty"`
}

// servePermissions answers GET {scope}/providers/Microsoft.Authorization/permissions:
// the permissions of every role assigned to the caller (or its groups) at
// the scope or above. Every caller may read its own permissions.
func (p *Provider) servePermissions(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	call.SkipAuthorization()
	if !call.Target.Collection || call.Method != http.MethodGet {
		return nil, methodNotAllowed(call.Method)
	}
	scope := scopeOf(call.Target.Scope)
	if err := p.requireScope(ctx, scope); err != nil {
		return nil, err
	}
	anc := p.ancestry(scope)
	ids := callerIDs(call)
	eng := p.c.Engine()
	items := []any{}
	for _, ra := range eng.RoleAssignments() {
		if !ids[strings.ToLower(ra.PrincipalID)] || !p.atOrAbove(anc, ra.Scope) {
			continue
		}
		rd, ok := eng.Catalog().Get(ra.RoleDefinitionID)
		if !ok {
			continue
		}
		for _, perm := range rd.Permissions {
			items = append(items, permissionEntry{Actions: nonNil(perm.Actions), NotActions: nonNil(perm.NotActions),
				DataActions: nonNil(perm.DataActions), NotDataActions: nonNil(perm.NotDataActions),
				Condition: perm.Condition, ConditionVersion: perm.ConditionVersion})
		}
	}
	return pageOf(call, items)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
