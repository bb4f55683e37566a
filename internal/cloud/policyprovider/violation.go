package policyprovider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/policy"
)

const codeDisallowed = "RequestDisallowedByPolicy"

// identifier is one element of the "Policy identifiers" list of ARM's
// denial message.
type identifier struct {
	Assignment idName  `json:"policyAssignment"`
	Definition idName  `json:"policyDefinition"`
	Set        *idName `json:"policySetDefinition,omitempty"`
}

type idName struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// violation is ARM's 403 RequestDisallowedByPolicy: the message lists the
// policy identifiers, additionalInfo holds one PolicyViolation per denying
// policy with its evaluation details.
func (p *Provider) violation(ctx context.Context, req *cloud.PolicyRequest, res *policy.Resource,
	denials []policy.PolicyReport, entries []*entry, opts policy.EvalOptions) error {
	byID := make(map[string]*entry, len(entries))
	for _, e := range entries {
		byID[strings.ToLower(e.id)] = e
	}
	name := req.ID[strings.LastIndexByte(req.ID, '/')+1:]
	ids := make([]identifier, 0, len(denials))
	infos := make([]arm.AdditionalInfo, 0, len(denials))
	for _, d := range denials {
		e := byID[strings.ToLower(d.AssignmentID)]
		if e == nil {
			continue
		}
		defName, defDisplay := e.nameOf(d.DefinitionID)
		id := identifier{Assignment: idName{Name: firstNonEmpty(e.display, e.name), ID: e.id},
			Definition: idName{Name: firstNonEmpty(defDisplay, defName), ID: d.DefinitionID}}
		info := map[string]any{
			"policyDefinitionId": d.DefinitionID, "policyDefinitionName": defName,
			"policyDefinitionDisplayName": defDisplay, "policyDefinitionEffect": d.Effect,
			"policyAssignmentId": e.id, "policyAssignmentName": e.name, "policyAssignmentDisplayName": e.display,
			"policyAssignmentScope": e.scope, "policyAssignmentParameters": e.parameters,
			"policyExemptionIds": []string{},
		}
		if e.isSet {
			setName, setDisplay := e.nameOf(e.defID)
			id.Set = &idName{Name: firstNonEmpty(setDisplay, setName), ID: e.defID}
			info["policySetDefinitionId"], info["policySetDefinitionName"] = e.defID, setName
			info["policySetDefinitionDisplayName"] = setDisplay
			info["policyDefinitionReferenceId"] = d.ReferenceID
		}
		if d.Reason != "" {
			info["reason"] = d.Reason
		}
		info["evaluationDetails"] = map[string]any{"evaluatedExpressions": explain(ctx, e, res, d.ReferenceID, opts)}
		ids = append(ids, id)
		infos = append(infos, arm.AdditionalInfo{Type: "PolicyViolation", Info: info})
	}
	list, _ := json.Marshal(ids)
	return &arm.Error{Status: http.StatusForbidden, Code: codeDisallowed, Target: name,
		Message:        "Resource '" + name + "' was disallowed by policy. Policy identifiers: '" + string(list) + "'.",
		AdditionalInfo: infos}
}

// explain re-evaluates one member with explanation on, for the
// evaluatedExpressions of a denial (only denials pay for it).
func explain(ctx context.Context, e *entry, res *policy.Resource, ref string, opts policy.EvalOptions) []policy.EvaluatedExpression {
	opts.Explain = true
	r := e.eval.Evaluate(ctx, res, nil, opts.Now, opts)
	for _, m := range r.Members {
		if m.ReferenceID == ref {
			if m.Explanation == nil {
				return []policy.EvaluatedExpression{}
			}
			return m.Explanation
		}
	}
	return []policy.EvaluatedExpression{}
}

// nameOf returns the name and display name of a definition the entry uses.
func (e *entry) nameOf(id string) (string, string) {
	n := e.names[strings.ToLower(id)]
	if n[0] == "" {
		n[0] = id[strings.LastIndexByte(id, '/')+1:]
	}
	return n[0], n[1]
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
