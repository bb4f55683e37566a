package solutions

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
)

// checkAuthorizations checks [{principalId, roleDefinitionId}], both GUIDs.
func checkAuthorizations(v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return invalid("The property 'authorizations' must be an array.")
	}
	for i, e := range list {
		m, _ := e.(map[string]any)
		pid, _ := m["principalId"].(string)
		rid, _ := m["roleDefinitionId"].(string)
		if _, err := uuid.Parse(pid); err != nil {
			return invalid("authorizations[%d].principalId must be the object ID (a GUID) of a user, group or service principal.", i)
		}
		if roleGUID(rid) == "" {
			return invalid("authorizations[%d].roleDefinitionId must be the GUID of a role definition.", i)
		}
	}
	return nil
}

// roleGUID is the role GUID of a roleDefinitionId given as a GUID or as a
// role definition resource ID, or "".
func roleGUID(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		if !strings.Contains(strings.ToLower(s), "/providers/microsoft.authorization/roledefinitions/") {
			return ""
		}
		s = s[i+1:]
	}
	g, err := uuid.Parse(s)
	if err != nil {
		return ""
	}
	return g.String()
}

// checkPolicies checks [{name, policyDefinitionId, parameters}]; parameters
// is a JSON string in the spec (an object is accepted too).
func checkPolicies(v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return invalid("The property 'policies' must be an array.")
	}
	seen := map[string]bool{}
	for i, e := range list {
		m, _ := e.(map[string]any)
		name, _ := m["name"].(string)
		def, _ := m["policyDefinitionId"].(string)
		if name == "" || len(name) > 128 || strings.ContainsAny(name, "/<>%&:\\?+") {
			return invalid("policies[%d].name must be a policy assignment name (1 to 128 characters, none of /<>%%&:\\?+).", i)
		}
		if seen[strings.ToLower(name)] {
			return invalid("policies[%d].name '%s' is given twice.", i, name)
		}
		seen[strings.ToLower(name)] = true
		if _, err := arm.ParseResourceID(def); err != nil || !strings.Contains(strings.ToLower(def), "/providers/microsoft.authorization/policy") {
			return invalid("policies[%d].policyDefinitionId must be the ID of a policy definition or set definition.", i)
		}
		if _, err := policyParameters(m["parameters"]); err != nil {
			return invalid("policies[%d].parameters %s.", i, err.Error())
		}
	}
	return nil
}

// policyParameters decodes an ApplicationPolicy's parameters: a JSON string
// (the spec's type) or an object, of the form {"p": {"value": v}}.
func policyParameters(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return map[string]any{}, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err != nil || m == nil {
			return nil, errNotObject
		}
		return m, nil
	}
	return nil, errNotObject
}

// checkNotificationPolicy checks notificationEndpoints[].uri: one
// absolute http(s) URI, as Azure accepts one endpoint per definition.
func checkNotificationPolicy(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid("The property 'notificationPolicy' must be an object.")
	}
	list, ok := m["notificationEndpoints"].([]any)
	if !ok {
		return invalid("The property 'notificationPolicy.notificationEndpoints' is required and must be an array.")
	}
	if len(list) > 1 {
		return invalid("Only one notification endpoint is supported.")
	}
	for i, e := range list {
		em, _ := e.(map[string]any)
		s, _ := em["uri"].(string)
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return invalid("notificationEndpoints[%d].uri must be an absolute http or https URI.", i)
		}
	}
	return nil
}

// checkLockingPolicy checks allowedActions / allowedDataActions.
func checkLockingPolicy(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid("The property 'lockingPolicy' must be an object.")
	}
	for _, k := range []string{"allowedActions", "allowedDataActions"} {
		if _, err := stringList(m[k]); err != nil {
			return invalid("lockingPolicy.%s must be an array of operation names.", k)
		}
	}
	return nil
}

// stringList reads an optional array of non-empty strings.
func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errNotObject
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, errNotObject
		}
		out = append(out, s)
	}
	return out, nil
}
