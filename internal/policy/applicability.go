package policy

import (
	"context"
	"strings"
)

// applicability flags say which built-in fields decide whether a policy
// applies to a resource (policy-applicability.md).
const (
	applyType uint8 = 1 << iota
	applyName
	applyKind
	applyAll // the policy applies to every resource its mode admits
)

// applicabilityOf scans a rule's if condition (outside count) for the
// fields it tests and derives which conditions decide applicability for
// effects other than auditIfNotExists/deployIfNotExists: only kind or
// only name conditions apply to all resources; type with only kind or
// name considers type alone; otherwise type, name and kind conditions
// are considered, the rest treated as true.
func applicabilityOf(c *Condition) (flags uint8, location bool) {
	var hasType, hasName, hasKind, hasOther bool
	var walk func(c *Condition)
	walk = func(c *Condition) {
		switch c.Kind {
		case CondAllOf, CondAnyOf, CondNot:
			for _, k := range c.Children {
				walk(k)
			}
		case CondField:
			switch strings.ToLower(c.Field) {
			case "type":
				hasType = true
			case "name":
				hasName = true
			case "kind":
				hasKind = true
			case "location":
				location = true
				hasOther = true
			default:
				hasOther = true
			}
		default:
			hasOther = true
		}
	}
	walk(c)
	switch {
	case !hasType && !hasOther && (hasName != hasKind):
		return applyAll, location
	case !hasType && !hasName && !hasKind:
		return applyAll, location
	case hasType && !hasOther:
		return applyType, location
	}
	if hasType {
		flags |= applyType
	}
	if hasName {
		flags |= applyName
	}
	if hasKind {
		flags |= applyKind
	}
	return flags, location
}

// Applicable reports whether the policy applies to the resource, which
// decides whether the resource counts for compliance at all: the mode and
// type filter (AppliesTo); for auditIfNotExists and deployIfNotExists the
// whole if condition; for other effects only the type, name and kind
// conditions, every other condition taken as true (false under not). A
// rule with a location condition never applies to subscriptions, and one
// using an alias the table does not know (UnknownAliases) applies to
// nothing.
func (p *Policy) Applicable(ctx context.Context, res *Resource, opts EvalOptions) (bool, error) {
	if !p.AppliesTo(res) {
		return false, nil
	}
	if p.hasLocation && res.typLower == "microsoft.resources/subscriptions" {
		return false, nil
	}
	if len(p.unknownAliases) > 0 {
		return false, nil // an invalid alias makes the policy not applicable
	}
	st := p.pool.Get().(*state)
	defer func() { st.reset(); p.pool.Put(st) }()
	st.optsVal = opts
	st.optsVal.Explain = false
	if err := st.begin(ctx, p, res, &st.optsVal); err != nil {
		return false, err
	}
	effect, err := p.then.effectName(st)
	if err != nil {
		return false, err
	}
	if opts.EffectOverride != "" {
		if effect, err = overrideEffect(opts.EffectOverride, p.then.path); err != nil {
			return false, err
		}
	}
	if effect == EffectAuditIfNotExists || effect == EffectDeployIfNotExists {
		return p.root.eval(st)
	}
	if p.applicability&applyAll != 0 {
		return true, nil
	}
	st.applic = p.applicability
	return p.root.eval(st)
}

// applicabilityLeaf evaluates a leaf in applicability mode: conditions
// on the considered built-in fields normally (ok=false), the others as
// true, or false under not.
func (st *state) applicabilityLeaf(n *leafNode) (result bool, decided bool) {
	if n.kind == CondField && n.field != nil {
		switch {
		case n.field.kind == fieldType && st.applic&applyType != 0,
			n.field.kind == fieldName && st.applic&applyName != 0,
			n.field.kind == fieldKindF && st.applic&applyKind != 0:
			return false, false
		}
	}
	return !st.negated, true
}
