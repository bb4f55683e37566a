package solutions

import (
	"context"
	"errors"
	"net/http"
	"strings"

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

type textError string

func (e textError) Error() string { return string(e) }

const errNotObject = textError("must be a JSON object of parameter values")
