package policy

import (
	"context"
	"errors"
	"time"
)

// RequestDecision is what the policies assigned over a resource decide
// for a create or update request, in the documented order
// (effect-basics.md): append and modify change the request first, then
// deny and audit are evaluated against the changed request.
type RequestDecision struct {
	// Document is the request body after append and modify.
	Document map[string]any `json:"document"`
	// Denied is true when an enforced deny (or a failed evaluation, an
	// implicit deny, or a deny conflictEffect) applies.
	Denied  bool           `json:"denied"`
	Denials []PolicyReport `json:"denials,omitempty"`
	// Audits are the audit effects (and modify conflicts with
	// conflictEffect audit) to record.
	Audits []PolicyReport `json:"audits,omitempty"`
	// Modified lists the append and modify policies that changed the
	// request.
	Modified []PolicyReport `json:"modified,omitempty"`
	// After lists auditIfNotExists/deployIfNotExists policies to evaluate
	// once the resource provider has succeeded.
	After []PolicyReport `json:"after,omitempty"`
}

// PolicyReport names one policy's part in a decision.
type PolicyReport struct {
	AssignmentID string `json:"policyAssignmentId"`
	DefinitionID string `json:"policyDefinitionId,omitempty"`
	ReferenceID  string `json:"policyDefinitionReferenceId,omitempty"`
	Effect       string `json:"effect"`
	Message      string `json:"message,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// EvaluateRequest decides a create or update request against assignments
// (those whose scope does not hold the resource are skipped). Exempt
// members and assignments with enforcementMode DoNotEnforce never change
// or deny the request. now decides exemption expiry.
func EvaluateRequest(ctx context.Context, assigned []*Assigned, res *Resource, exemptions []*Exemption, now time.Time, opts EvalOptions) RequestDecision {
	d := RequestDecision{Document: res.doc}
	// Pass 1: append and modify, in assignment order, each on the
	// document the previous ones produced.
	cur := res
	for _, x := range assigned {
		r := x.Evaluate(ctx, cur, exemptions, now, opts)
		if !r.Enforced {
			continue
		}
		for _, m := range r.Members {
			if m.State == StateExempt || (m.Effect != EffectAppend && m.Effect != EffectModify) {
				continue
			}
			rep := report(x.Assignment, m)
			doc, err := x.member(m.ReferenceID).Mutate(ctx, cur, m.Result, opts)
			var ce *ConflictError
			switch {
			case errors.As(err, &ce):
				rep.Reason = ce.Error()
				switch {
				case m.Effect == EffectAppend || ce.ConflictEffect == "deny":
					d.Denied = true
					d.Denials = append(d.Denials, rep)
				case ce.ConflictEffect == "audit":
					d.Audits = append(d.Audits, rep)
				}
			case err != nil:
				rep.Reason = err.Error()
				d.Denied = true
				d.Denials = append(d.Denials, rep)
			default:
				cur = NewResource(doc)
				d.Modified = append(d.Modified, rep)
			}
		}
	}
	d.Document = cur.doc
	// Pass 2: deny, audit and the rest on the changed request.
	for _, x := range assigned {
		r := x.Evaluate(ctx, cur, exemptions, now, opts)
		for _, m := range r.Members {
			if m.State == StateExempt {
				continue
			}
			rep := report(x.Assignment, m)
			switch {
			case m.State == StateError && r.Enforced:
				rep.Reason = m.Error
				d.Denied = true
				d.Denials = append(d.Denials, rep)
			case m.Effect == EffectDeny && r.Enforced:
				d.Denied = true
				d.Denials = append(d.Denials, rep)
			case m.Effect == EffectAudit || (m.Effect == EffectDeny && !r.Enforced):
				d.Audits = append(d.Audits, rep)
			case m.Effect == EffectAuditIfNotExists || m.Effect == EffectDeployIfNotExists:
				d.After = append(d.After, rep)
			}
		}
	}
	return d
}

func report(a *Assignment, m MemberResult) PolicyReport {
	return PolicyReport{AssignmentID: a.ID, DefinitionID: m.DefinitionID, ReferenceID: m.ReferenceID,
		Effect: m.Effect, Message: a.Message(m.ReferenceID)}
}

// member returns the compiled policy of a member (the definition itself
// for a single-definition assignment).
func (x *Assigned) member(referenceID string) *Policy {
	if x.Set == nil {
		return x.Policy
	}
	for _, m := range x.Set.Members {
		if m.ReferenceID == referenceID {
			return m.Policy
		}
	}
	return nil
}
