package policyprovider

import (
	"context"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

// BeforeWrite implements cloud.PolicyHook: the request-time decision of
// the assignments in scope, in the documented effect order. Append and
// modify change req.Document; deny (and a failed evaluation of an enforced
// policy) refuses a write, denyAction with "delete" among its actionNames
// refuses a delete, both with 403 RequestDisallowedByPolicy. Assignments
// with enforcementMode DoNotEnforce and exempted members never refuse or
// change a request. Writes of the policy types themselves are not
// evaluated.
func (p *Provider) BeforeWrite(ctx context.Context, req *cloud.PolicyRequest) error {
	switch strings.ToLower(req.Type) {
	case strings.ToLower(TypeDefinition), strings.ToLower(TypeSetDefinition), strings.ToLower(TypeAssignment), strings.ToLower(TypeExemption):
		return nil
	}
	c, err := p.current(ctx)
	if err != nil {
		return err
	}
	anc := p.c.ScopeAncestry(req.ID)
	entries := p.inScope(c, anc)
	if len(entries) == 0 {
		return nil
	}
	doc := evaluationDocument(req)
	now := p.c.Now()
	opts := policy.EvalOptions{APIVersion: req.APIVersion, Now: now,
		RequestContext: map[string]any{"apiVersion": req.APIVersion}}
	for _, e := range entries {
		if e.group.usesContext {
			opts.ResourceGroup, opts.Subscription = p.contextDocuments(ctx, req.ID)
			break
		}
	}
	if req.Operation == cloud.OpDelete {
		return p.denyDelete(ctx, req, policy.NewResource(doc), entries, c, anc, opts)
	}
	d := p.decide(ctx, c, entries, anc, doc, opts)
	if len(d.denials) > 0 {
		return p.violation(ctx, req, policy.NewResource(d.doc), d.denials, entries, opts)
	}
	if d.modified {
		// Keep the document's own type (see evaluationDocument).
		if t, ok := req.Document["type"]; ok {
			d.doc["type"] = t
		} else {
			delete(d.doc, "type")
		}
		req.Document = d.doc
	}
	return nil
}

// evaluationDocument is the request as policy sees it: the document with
// its id and name filled in from the request when absent, and the
// request's canonical type. The document itself is not changed.
func evaluationDocument(req *cloud.PolicyRequest) map[string]any {
	doc := make(map[string]any, len(req.Document)+3)
	for k, v := range req.Document {
		doc[k] = v
	}
	if _, ok := doc["id"]; !ok {
		doc["id"] = req.ID
	}
	// The type is always the request's canonical one: ARM documents a
	// resource group as "Microsoft.Resources/resourceGroups", but policy
	// rules (the built-in "Allowed locations for resource groups") test
	// "Microsoft.Resources/subscriptions/resourceGroups".
	doc["type"] = req.Type
	if _, ok := doc["name"]; !ok {
		doc["name"] = req.ID[strings.LastIndexByte(req.ID, '/')+1:]
	}
	return doc
}

// denyDelete applies denyAction effects to a delete.
func (p *Provider) denyDelete(ctx context.Context, req *cloud.PolicyRequest, res *policy.Resource, entries []*entry,
	c *compiled, anc map[string]bool, opts policy.EvalOptions) error {
	var denials []policy.PolicyReport
	for _, e := range entries {
		if !e.enforced {
			continue
		}
		r := e.eval.Evaluate(ctx, res, nil, opts.Now, opts)
		for _, m := range r.Members {
			if m.Effect != policy.EffectDenyAction || !namesDelete(m.Details) || c.exempt(e, m.ReferenceID, anc, res, opts) {
				continue
			}
			denials = append(denials, policy.PolicyReport{AssignmentID: e.id, DefinitionID: m.DefinitionID,
				ReferenceID: m.ReferenceID, Effect: m.Effect})
		}
	}
	if len(denials) == 0 {
		return nil
	}
	return p.violation(ctx, req, res, denials, entries, opts)
}

// namesDelete reports whether denyAction details list the delete action.
func namesDelete(details any) bool {
	m, _ := details.(map[string]any)
	for k, v := range m {
		if !strings.EqualFold(k, "actionNames") {
			continue
		}
		list, _ := v.([]any)
		for _, a := range list {
			if s, _ := a.(string); strings.EqualFold(s, "delete") {
				return true
			}
		}
	}
	return false
}

// EvaluateRoleAssignment implements rbac.RoleAssignmentPolicy for the
// delegation analysis: the role-assignment document is decided as a write
// would be, against the assignments in the store.
func (p *Provider) EvaluateRoleAssignment(ctx context.Context, _ string, doc map[string]any) (bool, string, error) {
	id, _ := doc["id"].(string)
	req := &cloud.PolicyRequest{Operation: cloud.OpWrite, ID: id, Type: "Microsoft.Authorization/roleAssignments", Document: doc}
	err := p.BeforeWrite(ctx, req)
	if err == nil {
		return false, "", nil
	}
	if ae, ok := err.(*arm.Error); ok && ae.Code == codeDisallowed {
		return true, ae.Message, nil
	}
	return false, "", err
}

// contextDocuments are what resourceGroup() and subscription() return for
// a resource: the stored resource group and subscription documents, with
// the properties ARM always shows (tags, managedBy, subscriptionId, ...)
// present even when the stored document lacks them, as policy scan does
// (docs/decisions/scan.md). They are nil when the resource is in none.
func (p *Provider) contextDocuments(ctx context.Context, id string) (rg, sub map[string]any) {
	r, err := arm.ParseResourceID(id)
	if err != nil || r.SubscriptionID == "" {
		return nil, nil
	}
	subID := "/subscriptions/" + r.SubscriptionID
	sub = map[string]any{"id": subID, "subscriptionId": r.SubscriptionID, "displayName": r.SubscriptionID, "tags": map[string]any{}}
	if s, err := p.get(ctx, subID); err == nil && s != nil {
		overlay(sub, s.Doc)
	}
	if r.ResourceGroup == "" || r.Kind() == arm.ScopeResourceGroup {
		return nil, sub
	}
	rgID := subID + "/resourceGroups/" + r.ResourceGroup
	rg = map[string]any{"id": rgID, "name": r.ResourceGroup, "type": cloud.TypeResourceGroup, "managedBy": "",
		"tags": map[string]any{}, "properties": map[string]any{"provisioningState": "Succeeded"}}
	if g, err := p.get(ctx, rgID); err == nil && g != nil {
		overlay(rg, g.Doc)
	}
	return rg, sub
}

// overlay copies doc's top-level values over defaults (a null keeps the
// default).
func overlay(defaults, doc map[string]any) {
	for k, v := range doc {
		if v != nil {
			defaults[k] = v
		}
	}
}
