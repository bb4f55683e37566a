package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// ConflictError is an append that would change a value the request sets
// (Azure then treats the append as a deny) or a modify operation that
// cannot be applied (the definition's conflictEffect decides what
// happens: deny by default).
type ConflictError struct {
	Field  string
	Reason string
	// ConflictEffect is the modify details' conflictEffect (deny, audit or
	// disabled; deny when unset); empty for append.
	ConflictEffect string
}

// Error describes the conflict.
func (e *ConflictError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }

// Mutate applies the result of a matched append or modify policy to the
// resource document and returns the changed copy; the resource itself is
// not changed. Modify operations whose condition is false are skipped.
// Other effects return the document unchanged.
//
// Array aliases follow effect-append.md and author-policies-for-arrays.md:
// append on a plain array alias sets the whole array (a conflict when it
// exists with another value), on "x[*]" adds members; modify add sets a
// missing value, addOrReplace sets it, and on "x[*]" addOrReplace replaces
// all members while add appends one; on "x[*].p" both set p on every
// member. Only tags may be removed.
func (p *Policy) Mutate(ctx context.Context, res *Resource, r Result, opts EvalOptions) (map[string]any, error) {
	doc, _ := deepCopy(res.doc).(map[string]any)
	switch r.Effect {
	case EffectAppend:
		list, ok := r.Details.([]any)
		if !ok {
			return nil, fmt.Errorf("append details must be an array of {field, value}")
		}
		for _, e := range list {
			em, _ := e.(map[string]any)
			field, value := stringAt(em, "field"), em[keyOf(em, "value")]
			if err := p.appendOne(doc, field, value, opts.APIVersion); err != nil {
				return nil, err
			}
		}
	case EffectModify:
		dm, _ := r.Details.(map[string]any)
		conflict := strings.ToLower(stringAt(dm, "conflictEffect"))
		if conflict == "" {
			conflict = "deny"
		}
		ops, _ := armexpr.Lookup(dm, "operations")
		list, _ := ops.([]any)
		for _, o := range list {
			om, _ := o.(map[string]any)
			apply, err := p.operationApplies(ctx, res, om, opts)
			if err != nil {
				return nil, err
			}
			if !apply {
				continue
			}
			if err := p.modifyOne(doc, res.Type(), om, opts.APIVersion); err != nil {
				if ce, ok := err.(*ConflictError); ok {
					ce.ConflictEffect = conflict
				}
				return nil, err
			}
		}
	}
	return doc, nil
}

// operationApplies evaluates a modify operation's condition.
func (p *Policy) operationApplies(ctx context.Context, res *Resource, om map[string]any, opts EvalOptions) (bool, error) {
	cond, ok := armexpr.Lookup(om, "condition")
	if !ok {
		return true, nil
	}
	if s, isStr := cond.(string); isStr && strings.HasPrefix(s, "[[") {
		cond = s[1:] // kept escaped in details so it is evaluated here
	}
	st := p.pool.Get().(*state)
	defer func() { st.reset(); p.pool.Put(st) }()
	st.optsVal = opts
	if err := st.begin(ctx, p, res, &st.optsVal); err != nil {
		return false, err
	}
	v := cond
	if s, isStr := cond.(string); isStr {
		var err error
		if v, err = st.evalExprString(s); err != nil {
			return false, err
		}
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return strings.EqualFold(x, "true"), nil
	}
	return false, fmt.Errorf("operation condition gives %s, want a boolean", armexpr.TypeName(v))
}

// targetPath resolves a field of an append or modify operation.
func (p *Policy) targetPath(field, apiVersion string) ([]seg, error) {
	f, err := compileField(field, p.aliases)
	if err != nil {
		return nil, err
	}
	segs, _ := f.pathFor(apiVersion)
	return segs, nil
}

func (p *Policy) appendOne(doc map[string]any, field string, value any, apiVersion string) error {
	segs, err := p.targetPath(field, apiVersion)
	if err != nil {
		return err
	}
	if n := len(segs); n > 0 && segs[n-1].wildcard && !hasWildcard(segs[:n-1]) {
		cur, _ := lookup(doc, segs[:n-1])
		arr, _ := cur.([]any)
		if add, ok := value.([]any); ok {
			arr = append(arr, add...)
		} else {
			arr = append(arr, value)
		}
		return setPath(doc, segs[:n-1], arr)
	}
	if hasWildcard(segs) {
		return &ConflictError{Field: field, Reason: "append cannot set a property inside array members"}
	}
	if cur, ok := lookup(doc, segs); ok && cur != nil {
		if !looseEqual(cur, value) {
			return &ConflictError{Field: field, Reason: fmt.Sprintf("the request sets %s, the policy appends %s", formatValue(cur), formatValue(value))}
		}
		return nil
	}
	return setPath(doc, segs, value)
}

func (p *Policy) modifyOne(doc map[string]any, typ string, om map[string]any, apiVersion string) error {
	field := stringAt(om, "field")
	op := strings.ToLower(stringAt(om, "operation"))
	value := om[keyOf(om, "value")]
	segs, err := p.targetPath(field, apiVersion)
	if err != nil {
		return err
	}
	if isIdentityPath(segs) && !identityModifiable(typ) {
		return &ConflictError{Field: field, Reason: "the managed identity can be modified only on virtual machines and virtual machine scale sets"}
	}
	isTag := len(segs) >= 2 && strings.EqualFold(segs[0].key, "tags")
	if op == "remove" {
		if !isTag {
			return &ConflictError{Field: field, Reason: "only tags can be removed"}
		}
		deletePath(doc, segs)
		return nil
	}
	n := len(segs)
	switch {
	case n > 0 && segs[n-1].wildcard && !hasWildcard(segs[:n-1]):
		cur, _ := lookup(doc, segs[:n-1])
		arr, _ := cur.([]any)
		if op == "addorreplace" {
			arr = nil
		}
		return setPath(doc, segs[:n-1], append(arr, value))
	case hasWildcard(segs):
		i := 0
		for !segs[i].wildcard {
			i++
		}
		cur, _ := lookup(doc, segs[:i])
		arr, _ := cur.([]any)
		for _, m := range arr {
			if mm, ok := m.(map[string]any); ok {
				if err := setPath(mm, segs[i+1:], value); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if op == "add" {
		if cur, ok := lookup(doc, segs); ok && cur != nil {
			return nil
		}
	}
	return setPath(doc, segs, value)
}

// setPath sets a value at a path of keys, creating objects on the way and
// keeping the document's spelling of existing keys.
func setPath(doc map[string]any, segs []seg, value any) error {
	m := doc
	for i, s := range segs {
		if s.wildcard || s.index >= 0 {
			return fmt.Errorf("cannot set a value through an array index")
		}
		k := keyOf(m, s.key)
		if i == len(segs)-1 {
			m[k] = value
			return nil
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return nil
}

func deletePath(doc map[string]any, segs []seg) {
	parent, ok := lookup(doc, segs[:len(segs)-1])
	if !ok {
		return
	}
	if m, ok := parent.(map[string]any); ok {
		delete(m, keyOf(m, segs[len(segs)-1].key))
	}
}

// isIdentityPath reports whether a modify target is the managed identity's
// type or user-assigned identities.
func isIdentityPath(segs []seg) bool {
	if len(segs) < 2 || !strings.EqualFold(segs[0].key, "identity") {
		return false
	}
	return strings.EqualFold(segs[1].key, "type") || strings.EqualFold(segs[1].key, "userAssignedIdentities")
}

// identityModifiable reports whether modify may change the managed
// identity of a resource type: effect-modify.md allows it on virtual
// machines and virtual machine scale sets only.
func identityModifiable(typ string) bool {
	return strings.EqualFold(typ, "Microsoft.Compute/virtualMachines") ||
		strings.EqualFold(typ, "Microsoft.Compute/virtualMachineScaleSets")
}
