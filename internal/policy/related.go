package policy

import (
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// relatedSatisfied looks up the related resources and reports whether one
// satisfies the existenceCondition (any one does when there is none).
func (t *thenNode) relatedSatisfied(st *state, details any) (bool, error) {
	if st.opts.Related == nil {
		return false, nil
	}
	dm, _ := details.(map[string]any)
	q := RelatedQuery{Resource: st.primary}
	if dm != nil {
		q.Type, q.Name = stringAt(dm, "type"), stringAt(dm, "name")
		q.ResourceGroupName, q.ExistenceScope = stringAt(dm, "resourceGroupName"), stringAt(dm, "existenceScope")
	}
	if q.Type == "" {
		// Details without a type (Azure accepts them; lint warns) name no
		// related resource: none is found, rather than every resource of
		// the scope.
		return false, nil
	}
	related, err := st.opts.Related(st.ctx, q)
	if err != nil {
		return false, &EvalError{Path: t.path + ".details", Err: err}
	}
	if t.existence == nil {
		return len(related) > 0, nil
	}
	saved := st.res
	defer func() { st.res = saved }()
	for _, doc := range related {
		st.res = NewResource(doc)
		ok, err := t.existence.eval(st)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// deploymentForPolicy escapes the expressions of a deployment body except
// properties.parameters.*.value, so evaluating details leaves the
// template's own expressions for the deployment.
func deploymentForPolicy(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := escapeExpressions(m).(map[string]any)
	props, ok := armexpr.Lookup(m, "properties")
	if !ok {
		return out
	}
	pm, ok := props.(map[string]any)
	if !ok {
		return out
	}
	params, ok := armexpr.Lookup(pm, "parameters")
	if !ok {
		return out
	}
	outProps := out[keyOf(m, "properties")].(map[string]any)
	outProps[keyOf(pm, "parameters")] = params
	return out
}

func keyOf(m map[string]any, key string) string {
	for k := range m {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

// escapeExpressions copies a value with "[expr]" strings escaped as
// "[[expr]" so they survive evaluation unchanged.
func escapeExpressions(v any) any {
	return mapStrings(v, func(s string) string {
		if isExpression(s) {
			return "[" + s
		}
		return s
	})
}

// IsExtensionResourceID reports whether id names an extension resource
// attached to another resource: a second provider segment follows a
// resource's, as in {vm}/providers/Microsoft.Insights/diagnosticSettings/x.
func IsExtensionResourceID(id string) bool {
	low := strings.ToLower(id)
	i := strings.Index(low, "/providers/")
	return i >= 0 && strings.Contains(low[i+len("/providers/"):], "/providers/")
}

// RelatedUnderResource reports whether auditIfNotExists and
// deployIfNotExists look for the related resources under the evaluated
// resource rather than in its group or subscription: the related type is
// a child type of the resource's type, or an extension type (extension
// says whether its resources are extension resources, as
// IsExtensionResourceID tells from their IDs).
func RelatedUnderResource(resourceType, relatedType string, extension bool) bool {
	return extension || strings.HasPrefix(strings.ToLower(relatedType), strings.ToLower(resourceType)+"/")
}

// DirectlyUnder reports whether id is a child or an extension of parent
// (one type/name pair below it, after an optional provider segment).
func DirectlyUnder(parent, id string) bool {
	if len(id) <= len(parent)+1 || !strings.EqualFold(id[:len(parent)], parent) || id[len(parent)] != '/' {
		return false
	}
	parts := strings.Split(id[len(parent)+1:], "/")
	if strings.EqualFold(parts[0], "providers") {
		if len(parts) < 2 {
			return false
		}
		parts = parts[2:] // providers/{namespace}
	}
	return len(parts) == 2
}
