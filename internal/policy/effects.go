package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// The effects, in their documented spelling.
const (
	EffectDisabled          = "disabled"
	EffectAppend            = "append"
	EffectModify            = "modify"
	EffectDeny              = "deny"
	EffectDenyAction        = "denyAction"
	EffectAudit             = "audit"
	EffectAuditIfNotExists  = "auditIfNotExists"
	EffectDeployIfNotExists = "deployIfNotExists"
	EffectManual            = "manual"
	EffectMutate            = "mutate"
	EffectAddToNetworkGroup = "addToNetworkGroup"
)

// knownEffects maps lower-case names to documented spellings; the legacy
// resource-provider-mode effects found in the built-in corpus are
// accepted as written.
var knownEffects = map[string]string{
	"disabled": EffectDisabled, "append": EffectAppend, "modify": EffectModify,
	"deny": EffectDeny, "denyaction": EffectDenyAction, "audit": EffectAudit,
	"auditifnotexists": EffectAuditIfNotExists, "deployifnotexists": EffectDeployIfNotExists,
	"manual": EffectManual, "mutate": EffectMutate, "addtonetworkgroup": EffectAddToNetworkGroup,
	"enforceregopolicy": "EnforceRegoPolicy", "enforcesetting": "EnforceSetting", "auditaction": "AuditAction",
}

// CanonicalEffect returns the documented spelling of an effect name given
// in any case, and whether the name is an effect.
func CanonicalEffect(name string) (string, bool) {
	e, ok := knownEffects[strings.ToLower(strings.TrimSpace(name))]
	return e, ok
}

// effectOrder is the documented order effects are evaluated in on a
// request (effect-basics.md): lower runs first.
var effectOrder = map[string]int{
	EffectDisabled: 0, EffectAppend: 1, EffectModify: 1, EffectDeny: 2, EffectAudit: 3,
	EffectManual: 4, EffectAuditIfNotExists: 5, EffectDenyAction: 6, EffectDeployIfNotExists: 7,
}

// EffectOrder returns the position of an effect in the documented
// evaluation order (disabled first; deployIfNotExists, which runs after
// the resource provider succeeds, last). Unknown effects sort last.
func EffectOrder(effect string) int {
	if o, ok := effectOrder[effect]; ok {
		return o
	}
	return 8
}

// thenNode is a compiled then block.
type thenNode struct {
	effect     *operand
	canon      string // the effect's documented spelling when folded
	details    *operand
	existence  node // existenceCondition of auditIfNotExists/deployIfNotExists
	path       string
	hasDetails bool
}

func (c *compiler) thenBlock(t *Then) (*thenNode, error) {
	n := &thenNode{path: t.path, hasDetails: t.HasDetails}
	var err error
	if n.effect, err = c.operand(t.Effect, t.path+".effect"); err != nil {
		return nil, err
	}
	if n.effect.folded {
		s, ok := n.effect.val.(string)
		if !ok {
			return nil, cerr(t.path+".effect", "effect must be a string, got %s", armexpr.TypeName(n.effect.val))
		}
		canon, ok := CanonicalEffect(s)
		if !ok {
			return nil, cerr(t.path+".effect", "unknown effect %q", s)
		}
		n.canon = canon
	}
	if !t.HasDetails {
		c.p.warnings = append(c.p.warnings, missingDetails(n.canon, nil, t.path+".details")...)
		return n, nil
	}
	dm, _ := t.Details.(map[string]any)
	if s, isStr := t.Details.(string); dm == nil && !(isStr && isExpression(s)) &&
		(n.canon == EffectModify || n.canon == EffectDeployIfNotExists) {
		return nil, cerr(t.path+".details", "%s details must be an object, got %s", n.canon, armexpr.TypeName(t.Details))
	}
	detailsForOperand := t.Details
	if dm != nil {
		if err := checkDetails(dm, t.path+".details"); err != nil {
			return nil, err
		}
		if err := checkRequiredDetails(dm, t.path+".details"); err != nil {
			return nil, err
		}
		c.p.warnings = append(c.p.warnings, missingDetails(n.canon, dm, t.path+".details")...)
		rest := make(map[string]any, len(dm))
		for k, v := range dm {
			switch strings.ToLower(k) {
			case "existencecondition":
				cond, err := parseCondition(v, t.path+".details."+k, 0)
				if err != nil {
					return nil, err
				}
				// Built-ins use deployment functions (uniqueString) in
				// existence conditions; Azure accepts them there.
				c.inDetails = true
				saved := c.lim.conditions
				c.lim.conditions, c.maxConds, c.condBlock = 0, MaxExistenceConditions, t.path+".details."+k
				n.existence, err = c.condition(cond)
				c.lim.conditions = saved
				c.inDetails = false
				if err != nil {
					return nil, err
				}
				continue
			case "deployment":
				// The deployment's template is evaluated by the template
				// engine at deployment time; only its parameter values
				// are policy expressions.
				rest[k] = deploymentForPolicy(v)
				continue
			case "operations":
				if err := c.checkModifyOperations(v, t.path+".details."+k); err != nil {
					return nil, err
				}
				// An operation's condition is evaluated when the
				// operation is applied, so it stays as written here.
				v = escapeConditions(v)
			}
			rest[k] = v
		}
		detailsForOperand = rest
	}
	c.inDetails = true
	n.details, err = c.operand(detailsForOperand, t.path+".details")
	c.inDetails = false
	if err != nil {
		return nil, err
	}
	return n, nil
}

// checkModifyOperations rejects, when an alias table is loaded, modify
// operations on aliases the table does not mark Modifiable.
func (c *compiler) checkModifyOperations(v any, path string) error {
	ops, ok := v.([]any)
	if !ok {
		return cerr(path, "operations must be an array, got %s", armexpr.TypeName(v))
	}
	for i, o := range ops {
		om, ok := o.(map[string]any)
		p := path + "[" + itoa(i) + "]"
		if !ok {
			return cerr(p, "an operation must be an object, got %s", armexpr.TypeName(o))
		}
		op := strings.ToLower(stringAt(om, "operation"))
		switch op {
		case "add", "addorreplace", "remove":
		default:
			if !isExpression(stringAt(om, "operation")) {
				return cerr(p+".operation", "unknown operation %q (want addOrReplace, add or remove)", stringAt(om, "operation"))
			}
		}
		fv, ok := armexpr.Lookup(om, "field")
		if fs, isStr := fv.(string); !ok || !isStr || strings.TrimSpace(fs) == "" {
			return cerr(p+".field", "an operation needs a field (an alias, tags['name'] or a property path)")
		}
		if _, ok := armexpr.Lookup(om, "value"); !ok && op != "remove" && !isExpression(stringAt(om, "operation")) {
			return cerr(p+".value", "a %s operation needs a value", stringAt(om, "operation"))
		}
		field := stringAt(om, "field")
		if !c.p.aliases.HasMetadata() || !strings.Contains(field, "/") {
			continue
		}
		a, ok := c.p.aliases.Lookup(field)
		if !ok {
			continue
		}
		mod := a.Modifiable
		for _, ap := range a.Paths {
			mod = mod || ap.Modifiable
		}
		if !mod {
			return cerr(p+".field", "alias %s is not modifiable", a.Name)
		}
	}
	return nil
}

// effectName resolves the effect (which may come from a parameter).
func (t *thenNode) effectName(st *state) (string, error) {
	if t.canon != "" && !(t.effect.paramDep && st.paramsOverride) {
		return t.canon, nil
	}
	v, err := t.effect.value(st)
	if err != nil {
		return "", &EvalError{Path: t.path + ".effect", Err: err}
	}
	s, _ := v.(string)
	e, ok := CanonicalEffect(s)
	if !ok {
		return "", &EvalError{Path: t.path + ".effect", Err: fmt.Errorf("unknown effect %q", s)}
	}
	return e, nil
}

// apply fills in the result of a matched rule: the effect, its details
// and the compliance state, looking up related resources for
// auditIfNotExists and deployIfNotExists.
func (t *thenNode) apply(st *state, effect string, out *Result) {
	var details any
	if t.details != nil {
		d, err := t.details.value(st)
		if err != nil {
			out.State, out.Err = StateError, &EvalError{Path: t.path + ".details", Err: err}
			return
		}
		details = d
		if !t.details.folded || (t.details.paramDep && st.paramsOverride) {
			// Constant details are shared; evaluated ones are fresh.
			details = deepCopy(d)
		}
	}
	switch effect {
	case EffectAuditIfNotExists, EffectDeployIfNotExists:
		found, err := t.relatedSatisfied(st, details)
		if err != nil {
			out.State, out.Err = StateError, err
			return
		}
		if found {
			out.State = StateCompliant
			return
		}
		out.Effect, out.State, out.Details = effect, StateNonCompliant, details
	case EffectModify:
		out.Effect, out.State = effect, StateNonCompliant
		d, err := modifyDetails(st, details)
		if err != nil {
			out.State, out.Err = StateError, &EvalError{Path: t.path + ".details", Err: err}
			return
		}
		out.Details = d
	case EffectManual:
		out.Effect, out.State, out.Details = effect, StateUnknown, details
		if dm, ok := details.(map[string]any); ok {
			if s := stringAt(dm, "defaultState"); s != "" {
				out.State = ParseComplianceState(s)
			}
		}
	case EffectDenyAction:
		out.Effect, out.State, out.Details = effect, StateProtected, details
	default:
		out.Effect, out.State, out.Details = effect, StateNonCompliant, details
	}
}

// modifyDetails returns the details of a modify effect. Operation
// conditions are kept as written: they are evaluated by whoever applies
// the operations (see ModifyOperations).
func modifyDetails(_ *state, details any) (any, error) {
	return details, nil
}

// escapeConditions escapes the condition of each modify operation.
func escapeConditions(v any) any {
	ops, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(ops))
	for i, o := range ops {
		om, ok := o.(map[string]any)
		if !ok {
			out[i] = o
			continue
		}
		cp := make(map[string]any, len(om))
		for k, e := range om {
			if strings.EqualFold(k, "condition") {
				e = escapeExpressions(e)
			}
			cp[k] = e
		}
		out[i] = cp
	}
	return out
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
