package policyprovider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

// putExemption validates an exemption (its assignment exists and covers
// the exemption's scope, its category is Waiver or Mitigated) and stores it.
func (p *Provider) putExemption(ctx context.Context, call *cloud.Call) (*cloud.Response, error) {
	t := call.Target
	scope := scopeOf(t.Scope)
	if scopeKind(scope) == arm.ScopeRoot {
		return nil, arm.BadRequest("InvalidPolicyExemptionScope", "Policy exemptions cannot be created at the tenant root '/'.")
	}
	if err := p.requireScope(ctx, scope); err != nil {
		return nil, err
	}
	body, err := call.Document()
	if err != nil {
		return nil, err
	}
	props := propsOf(body)
	aid := stringAt(body, "properties", "policyAssignmentId")
	ar, err := p.get(ctx, aid)
	if err != nil || aid == "" || ar == nil {
		return nil, arm.NotFound("PolicyAssignmentNotFound", "The policy assignment '%s' is not found.", aid)
	}
	if !p.c.ScopeAncestry(scope)[strings.ToLower(scopeFromID(ar.ID))] {
		return nil, arm.BadRequest("InvalidPolicyExemptionScope",
			"The policy exemption scope '%s' is not at or below the scope of policy assignment '%s'.", scope, aid)
	}
	switch c := stringAt(body, "properties", "exemptionCategory"); strings.ToLower(c) {
	case "waiver":
		props["exemptionCategory"] = "Waiver"
	case "mitigated":
		props["exemptionCategory"] = "Mitigated"
	default:
		return nil, arm.BadRequest("InvalidPolicyExemptionCategory", "The exemption category '%s' is not valid: use Waiver or Mitigated.", c)
	}
	if _, ok := props["policyDefinitionReferenceIds"]; !ok {
		props["policyDefinitionReferenceIds"] = []any{}
	}
	doc := map[string]any{"id": t.ID, "name": t.Name, "type": TypeExemption, "properties": props}
	b, _ := json.Marshal(doc)
	if _, err := policy.ParseExemption(b); err != nil {
		return nil, definitionError(err)
	}
	r, created, err := p.c.Put(ctx, call, cloud.PutRequest{ID: t.ID, Type: TypeExemption, Doc: doc, Cond: call.Precondition()})
	p.invalidate()
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &cloud.Response{Status: status, Body: r.Doc}, nil
}

// expired reports whether an expiresOn timestamp has passed.
func expired(s string, now time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && !t.After(now)
}
