package solutions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/store"
)

// Enumerations of the 2021-07-01 spec, by lower-case spelling.
var (
	lockLevels      = map[string]string{"cannotdelete": "CanNotDelete", "readonly": "ReadOnly", "none": "None"}
	deploymentModes = map[string]string{"notspecified": "NotSpecified", "incremental": "Incremental", "complete": "Complete"}
	managementModes = map[string]string{"notspecified": "NotSpecified", "unmanaged": "Unmanaged", "managed": "Managed"}
)

func invalid(format string, args ...any) error {
	return arm.BadRequest("InvalidRequestContent", format, args...)
}

// definitionHook validates an applicationDefinitions PUT or PATCH and
// canonicalizes its enumerations. Steward has no package store: the
// package must be given inline (mainTemplate, createUiDefinition), and a
// packageFileUri alone is refused rather than stored unused.
func (p *Provider) definitionHook(ctx context.Context, id string, doc, existing map[string]any) error {
	props, ok := doc["properties"].(map[string]any)
	if !ok {
		return invalid("The property 'properties' is required for an application definition.")
	}
	if err := canonEnum(props, "lockLevel", lockLevels, true); err != nil {
		return err
	}
	if _, ok := props["mainTemplate"].(map[string]any); !ok {
		if props["mainTemplate"] != nil {
			return invalid("The property 'properties.mainTemplate' must be a template object.")
		}
		if s, _ := props["packageFileUri"].(string); s != "" {
			return arm.BadRequest("PackageFileUriNotSupported",
				"Steward cannot download the package at packageFileUri; give the package inline in 'mainTemplate' and 'createUiDefinition'.")
		}
		return invalid("The application definition needs a package: give 'properties.mainTemplate' (and 'createUiDefinition').")
	}
	if v, ok := props["createUiDefinition"]; ok && v != nil {
		if _, isObj := v.(map[string]any); !isObj {
			return invalid("The property 'properties.createUiDefinition' must be an object.")
		}
	}
	if v, ok := props["isEnabled"]; !ok || v == nil {
		props["isEnabled"] = true
	} else if _, isBool := v.(bool); !isBool {
		return invalid("The property 'properties.isEnabled' must be true or false.")
	}
	if err := checkAuthorizations(props["authorizations"]); err != nil {
		return err
	}
	if err := checkPolicies(props["policies"]); err != nil {
		return err
	}
	if err := checkNotificationPolicy(props["notificationPolicy"]); err != nil {
		return err
	}
	if err := checkLockingPolicy(props["lockingPolicy"]); err != nil {
		return err
	}
	if dp, ok := props["deploymentPolicy"].(map[string]any); ok {
		if err := canonEnum(dp, "deploymentMode", deploymentModes, true); err != nil {
			return err
		}
	} else if props["deploymentPolicy"] != nil {
		return invalid("The property 'properties.deploymentPolicy' must be an object.")
	}
	if mp, ok := props["managementPolicy"].(map[string]any); ok {
		if err := canonEnum(mp, "mode", managementModes, true); err != nil {
			return err
		}
	} else if props["managementPolicy"] != nil {
		return invalid("The property 'properties.managementPolicy' must be an object.")
	}
	if err := keepManagementMode(props, existing); err != nil {
		return err
	}
	props["provisioningState"] = "Succeeded"
	return p.recordPublisher(ctx, id)
}

// tablePublishers maps a definition (lower-case ID) to the tenant of the
// principal that first wrote it: the publisherTenantId of its
// applications. (Every subscription of Steward belongs to its home
// tenant, so the definition's subscription cannot say which tenant
// publishes it.)
const tablePublishers = "solutions.publishers"

func (p *Provider) recordPublisher(ctx context.Context, id string) error {
	pr, _ := identity.PrincipalFrom(ctx)
	tenant := pr.TenantID
	if tenant == "" {
		tenant = p.c.TenantID()
	}
	return p.c.Store().Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, tablePublishers, strings.ToLower(id), []byte(tenant), store.IfAbsent())
		if errors.Is(err, store.ErrExists) {
			return nil
		}
		return err
	})
}

// publisherTenant is the tenant that published a definition.
func (p *Provider) publisherTenant(ctx context.Context, id string) string {
	tenant := p.c.TenantID()
	_ = p.c.Store().View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(ctx, tablePublishers, strings.ToLower(id))
		if err == nil {
			tenant = string(rec.Value)
		}
		return err
	})
	return tenant
}

// keepManagementMode defaults the management mode to Managed on create
// and refuses to change it afterwards, as Azure does (an update that omits
// it is a change too).
func keepManagementMode(props, existing map[string]any) error {
	mode := ""
	if mp, ok := props["managementPolicy"].(map[string]any); ok {
		mode = stringOf(mp["mode"])
	}
	if existing == nil {
		if mode == "" {
			props["managementPolicy"] = map[string]any{"mode": "Managed"}
		}
		return nil
	}
	oldProps, _ := existing["properties"].(map[string]any)
	was := ""
	if mp, ok := oldProps["managementPolicy"].(map[string]any); ok {
		was = stringOf(mp["mode"])
	}
	if was != "" && mode != was {
		return arm.Errorf(http.StatusConflict, "ApplicationDefinitionApplicationManagementPolicyLockConflict",
			"The management mode of an existing application definition cannot change: it is '%s', the request has '%s'.", was, orNull(mode))
	}
	return nil
}

func orNull(s string) string {
	if s == "" {
		return "<null>"
	}
	return s
}

// canonEnum replaces props[key] by its canonical spelling.
func canonEnum(props map[string]any, key string, values map[string]string, required bool) error {
	v, present := props[key]
	if !present || v == nil {
		if required {
			return invalid("The property '%s' is required.", key)
		}
		return nil
	}
	s, _ := v.(string)
	c, ok := values[strings.ToLower(s)]
	if !ok {
		names := make([]string, 0, len(values))
		for _, n := range values {
			names = append(names, n)
		}
		return invalid("The value of '%s' is not valid; use one of %s.", key, strings.Join(sortedCopy(names), ", "))
	}
	props[key] = c
	return nil
}

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

type textError string

func (e textError) Error() string { return string(e) }

const errNotObject = textError("must be a JSON object of parameter values")

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
