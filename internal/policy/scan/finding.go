package scan

import (
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// Finding is one resource a policy finds non-compliant (or could not
// evaluate): which assignment and definition, why (the evaluated
// expressions), and what the effect would do on the next write.
type Finding struct {
	ResourceID   string `json:"resourceId"`
	ResourceType string `json:"resourceType"`
	// Where locates the resource in the estate file.
	Where                string                       `json:"source"`
	Line                 int                          `json:"line,omitempty"`
	URI                  string                       `json:"uri,omitempty"`
	AssignmentID         string                       `json:"policyAssignmentId"`
	AssignmentName       string                       `json:"policyAssignmentName"`
	SetDefinitionID      string                       `json:"policySetDefinitionId,omitempty"`
	ReferenceID          string                       `json:"policyDefinitionReferenceId,omitempty"`
	DefinitionID         string                       `json:"policyDefinitionId"`
	DefinitionName       string                       `json:"policyDefinitionName"`
	DisplayName          string                       `json:"policyDefinitionDisplayName,omitempty"`
	State                policy.ComplianceState       `json:"complianceState"`
	Effect               string                       `json:"effect,omitempty"`
	Message              string                       `json:"message,omitempty"`
	Error                string                       `json:"error,omitempty"`
	Reason               string                       `json:"reason,omitempty"`
	NextWrite            *NextWrite                   `json:"nextWrite,omitempty"`
	EvaluatedExpressions []policy.EvaluatedExpression `json:"evaluatedExpressions,omitempty"`

	explain func(*Finding)
}

// Explain fills in Reason and EvaluatedExpressions when the scan left
// them for later (Scanner.LazyExplain): it evaluates the definition once
// more with the explanation on. Sinks call it from their one goroutine.
func (f *Finding) Explain() {
	if f.explain != nil {
		f.explain(f)
		f.explain = nil
	}
}

// reason summarises the evaluated expressions that decided a result:
// those whose result held, as "expression operator target (value)".
func reason(r *policy.Result) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	var parts []string
	for _, e := range r.Explanation {
		if !e.Result {
			continue
		}
		val := jsonText(e.ExpressionValue)
		if e.Missing {
			val = "missing"
		}
		parts = append(parts, e.Expression+" "+e.Operator+" "+jsonText(e.TargetValue)+" (value: "+val+")")
	}
	switch r.Effect {
	case policy.EffectAuditIfNotExists, policy.EffectDeployIfNotExists:
		dm, _ := r.Details.(map[string]any)
		parts = append(parts, "no related "+lookupString(dm, "type")+" in the estate satisfies the existence condition")
	}
	return strings.Join(parts, "; ")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
