package authorization

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
)

// TypeDelegationAnalysis is the pseudo type of
// {scope}/providers/Microsoft.Authorization/delegationAnalysis, Steward's
// own read (Azure has none): what a principal can grant at the scope, as
// `steward rbac delegation` computes it.
const TypeDelegationAnalysis = "Microsoft.Authorization/delegationAnalysis"

// Limits of one analysis request.
const (
	maxDelegationTargets = 20
	maxDelegationGroups  = 200
	maxDelegationRoles   = 50
)

// serveDelegationAnalysis answers GET {scope}/providers/Microsoft.Authorization/delegationAnalysis
// ?principalId=P[&target=T...][&role=R...][&principalType=X...][&group=G...]:
// the RBAC decision for every role, principal type and target of a
// role-assignment write by P at the scope, and the escalation paths. It
// needs roleAssignments/read at the scope. P's groups are the caller's
// token groups when P is the caller, the group parameters otherwise (the
// management API does not read the directory). Policy assignments are not
// consulted (steward rbac delegation --data does that).
func (p *Provider) serveDelegationAnalysis(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	if !call.Target.Collection || call.Method != http.MethodGet {
		call.SkipAuthorization()
		return nil, methodNotAllowed(call.Method)
	}
	scope := scopeOf(call.Target.Scope)
	if err := call.Authorize(ctx, "Microsoft.Authorization/roleAssignments/read", scope); err != nil {
		return nil, err
	}
	if err := p.requireScope(ctx, scope); err != nil {
		return nil, err
	}
	q := call.HTTP.URL.Query()
	req := rbac.DelegationRequest{PrincipalID: q.Get("principalId"), Scope: scope, Targets: q["target"], Roles: q["role"],
		PrincipalTypes: q["principalType"], Groups: q["group"]}
	if uuid.Validate(req.PrincipalID) != nil {
		return nil, arm.BadRequest("InvalidPrincipalId", "The query parameter 'principalId' must be the object ID (a GUID) of a principal.")
	}
	for _, t := range append(append([]string{}, req.Targets...), req.Groups...) {
		if uuid.Validate(t) != nil {
			return nil, arm.BadRequest("InvalidPrincipalId", "The target or group '%s' is not a GUID.", truncate(t, 60))
		}
	}
	if len(req.Targets) > maxDelegationTargets || len(req.Groups) > maxDelegationGroups || len(req.Roles) > maxDelegationRoles {
		return nil, arm.BadRequest("InvalidQueryParameterValue", "At most %d targets, %d groups and %d roles may be given.",
			maxDelegationTargets, maxDelegationGroups, maxDelegationRoles)
	}
	for _, t := range req.PrincipalTypes {
		if t != rbac.PrincipalUser && t != rbac.PrincipalGroup && t != rbac.PrincipalServicePrincipal {
			return nil, arm.BadRequest("InvalidQueryParameterValue", "The principal type '%s' is not User, Group or ServicePrincipal.", truncate(t, 60))
		}
	}
	if strings.EqualFold(req.PrincipalID, call.Principal.ObjectID) && len(req.Groups) == 0 {
		req.Groups = call.Principal.Groups
	}
	rep, err := p.c.Engine().Analyze(ctx, req)
	if err != nil {
		return nil, arm.BadRequest("InvalidQueryParameterValue", "%s", truncate(err.Error(), 300))
	}
	if rep.Cells == nil {
		rep.Cells = []rbac.Cell{}
	}
	if rep.Escalations == nil {
		rep.Escalations = []rbac.Escalation{}
	}
	return &cloud.Response{Status: http.StatusOK, Body: rep}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
