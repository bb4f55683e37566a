package policyprovider

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

// putExemption validates an exemption (its assignment exists and covers
// the exemption's scope, its category is Waiver or Mitigated) and stores it.
func (p *Provider) writeExemption(ctx context.Context, call *cloud.Call, body map[string]any) (cloud.Resource, bool, error) {
	t := call.Target
	scope := scopeOf(t.Scope)
	if scopeKind(scope) == arm.ScopeRoot {
		return cloud.Resource{}, false, arm.BadRequest("InvalidPolicyExemptionScope", "Policy exemptions cannot be created at the tenant root '/'.")
	}
	if err := p.requireScope(ctx, scope); err != nil {
		return cloud.Resource{}, false, err
	}
	props := propsOf(body)
	aid := stringAt(body, "properties", "policyAssignmentId")
	ar, err := p.get(ctx, aid)
	if err != nil || aid == "" || ar == nil {
		return cloud.Resource{}, false, arm.NotFound("PolicyAssignmentNotFound", "The policy assignment '%s' is not found.", aid)
	}
	if !p.c.ScopeAncestry(scope)[strings.ToLower(scopeFromID(ar.ID))] {
		return cloud.Resource{}, false, arm.BadRequest("InvalidPolicyExemptionScope",
			"The policy exemption scope '%s' is not at or below the scope of policy assignment '%s'.", scope, aid)
	}
	switch c := stringAt(body, "properties", "exemptionCategory"); strings.ToLower(c) {
	case "waiver":
		props["exemptionCategory"] = "Waiver"
	case "mitigated":
		props["exemptionCategory"] = "Mitigated"
	default:
		return cloud.Resource{}, false, arm.BadRequest("InvalidPolicyExemptionCategory", "The exemption category '%s' is not valid: use Waiver or Mitigated.", c)
	}
	if _, ok := props["policyDefinitionReferenceIds"]; !ok {
		props["policyDefinitionReferenceIds"] = []any{}
	}
	doc := map[string]any{"id": t.ID, "name": t.Name, "type": TypeExemption, "properties": props}
	b, _ := json.Marshal(doc)
	if _, err := policy.ParseExemption(b); err != nil {
		return cloud.Resource{}, false, definitionError(err)
	}
	return p.c.Put(ctx, call, cloud.PutRequest{ID: t.ID, Type: TypeExemption, Doc: doc, Cond: call.Precondition()})
}

// expired reports whether an expiresOn timestamp has passed.
func expired(s string, now time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && !t.After(now)
}
