package policy

import (
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// checkRequiredDetails applies the documented structure of modify and
// deployIfNotExists details (effect-modify.md, effect-deploy-if-not-exists.md)
// to what the details contain: roleDefinitionIds is an array of role
// definition IDs and a policy deployment runs in Incremental mode. A value
// given by an expression is not checked.
func checkRequiredDetails(dm map[string]any, path string) error {
	if rdi, ok := armexpr.Lookup(dm, "roleDefinitionIds"); ok {
		if err := checkRoleDefinitionIDs(rdi, path+".roleDefinitionIds"); err != nil {
			return err
		}
	}
	if dep, ok := armexpr.Lookup(dm, "deployment"); ok {
		if err := checkDeployment(dep, path+".deployment"); err != nil {
			return err
		}
	}
	return nil
}

// missingDetails lists what modify and deployIfNotExists details lack of
// what Learn calls required: both roleDefinitionIds, modify at least one
// operation, deployIfNotExists type and deployment. Azure accepts such
// definitions, so these are lint warnings, not compile errors: what can
// be evaluated is (the if condition; the existence check needs a type).
// effect is the effect's documented spelling when it is a literal, else ""
// (a parameter), when nothing is required since the same details serve
// every effect the parameter allows. dm is nil when there are no details.
func missingDetails(effect string, dm map[string]any, path string) []*CompileError {
	var required []string
	switch effect {
	case EffectModify:
		required = []string{"roleDefinitionIds", "operations"}
	case EffectDeployIfNotExists:
		required = []string{"type", "roleDefinitionIds", "deployment"}
	default:
		return nil
	}
	if dm == nil {
		return []*CompileError{cerr(path, "%s has no details (Learn requires %s); evaluated without them",
			effect, strings.Join(required, ", "))}
	}
	var out []*CompileError
	for _, k := range required {
		if _, ok := armexpr.Lookup(dm, k); !ok {
			out = append(out, cerr(path+"."+k, "%s details lack %s (Learn requires it); evaluated without it", effect, k))
		}
	}
	if effect == EffectModify {
		ops, _ := armexpr.Lookup(dm, "operations")
		if list, ok := ops.([]any); ok && len(list) == 0 {
			out = append(out, cerr(path+".operations", "modify details have no operation; the modify changes nothing"))
		}
	}
	return out
}

// checkRoleDefinitionIDs wants an array of role definition IDs: the roles
// the assignment's managed identity is given for remediation. Learn does
// not say the array may not be empty, so an empty one is accepted.
func checkRoleDefinitionIDs(v any, path string) error {
	if s, ok := v.(string); ok && isExpression(s) {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return cerr(path, "roleDefinitionIds must be an array of role definition IDs, got %s", armexpr.TypeName(v))
	}
	for i, e := range list {
		if s, ok := e.(string); !ok || strings.TrimSpace(s) == "" {
			return cerr(path+"["+itoa(i)+"]", "a role definition ID must be a non-empty string, got %s", formatValue(e))
		}
	}
	return nil
}

// checkDeployment wants a deployment body whose properties.mode, when a
// literal, is Incremental: a policy deployment adds or updates the
// related resource and must never delete the others of its scope, which
// Complete mode would.
func checkDeployment(v any, path string) error {
	if s, ok := v.(string); ok && isExpression(s) {
		return nil
	}
	dm, ok := v.(map[string]any)
	if !ok {
		return cerr(path, "deployment must be an object, got %s", armexpr.TypeName(v))
	}
	pv, ok := armexpr.Lookup(dm, "properties")
	if !ok {
		return cerr(path+".properties", "deployment needs properties (mode, template, parameters)")
	}
	props, ok := pv.(map[string]any)
	if !ok {
		if s, isStr := pv.(string); isStr && isExpression(s) {
			return nil
		}
		return cerr(path+".properties", "deployment properties must be an object, got %s", armexpr.TypeName(pv))
	}
	mode, ok := armexpr.Lookup(props, "mode")
	if !ok {
		return cerr(path+".properties.mode", "deployment needs mode Incremental")
	}
	if s, isStr := mode.(string); !isStr || (!isExpression(s) && !strings.EqualFold(s, "incremental")) {
		return cerr(path+".properties.mode", "deployment mode must be Incremental, got %s", formatValue(mode))
	}
	return nil
}
