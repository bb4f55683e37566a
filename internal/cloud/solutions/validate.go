package solutions

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// Markers on the context of the provider's own writes of an application.
type (
	platformWrite struct{}
	patchWrite    struct{}
)

// kinds of application, by lower-case spelling.
var appKinds = map[string]string{"servicecatalog": "ServiceCatalog", "marketplace": "MarketPlace"}

// readOnlyProps are the application properties the provider computes; a
// client's values are ignored on PUT and kept from the stored document
// on PATCH.
var readOnlyProps = []string{"provisioningState", "outputs", "authorizations", "publisherTenantId",
	"billingDetails", "createdBy", "updatedBy", "managementMode", "artifacts", "supportUrls"}

// applicationHook validates a client's PUT or PATCH of an application and
// fills in the properties the provider computes. The provider's own
// writes (provisioning results) pass unchanged.
func (p *Provider) applicationHook(ctx context.Context, id string, doc, existing map[string]any) error {
	if ctx.Value(platformWrite{}) != nil {
		return nil
	}
	if ctx.Value(patchWrite{}) != nil {
		return p.checkPatch(ctx, doc, existing)
	}
	appID, err := arm.ParseResourceID(id)
	if err != nil {
		return err
	}
	kind, _ := doc["kind"].(string)
	canon, ok := appKinds[strings.ToLower(kind)]
	if !ok {
		return invalid("The property 'kind' is required and must be ServiceCatalog or MarketPlace.")
	}
	doc["kind"] = canon
	if loc, _ := doc["location"].(string); loc == "" {
		return arm.BadRequest("LocationRequired", "The location property is required for this definition.")
	}
	props, ok := doc["properties"].(map[string]any)
	if !ok {
		return invalid("The property 'properties' is required for a managed application.")
	}
	if err := checkIdentity(doc["identity"]); err != nil {
		return err
	}
	if canon == "MarketPlace" {
		if err := checkPlan(doc["plan"]); err != nil {
			return err
		}
	}
	var old map[string]any
	if existing != nil {
		old, _ = existing["properties"].(map[string]any)
	}
	if existing != nil && !strings.EqualFold(stringOf(existing["kind"]), canon) {
		return arm.Errorf(http.StatusConflict, "ApplicationPropertyCannotBeChanged", "The kind of a managed application cannot be changed.")
	}
	mrg, err := p.managedGroupOf(ctx, appID, props, old)
	if err != nil {
		return err
	}
	props["managedResourceGroupId"] = mrg
	defID, _ := props["applicationDefinitionId"].(string)
	if old != nil {
		if was, _ := old["applicationDefinitionId"].(string); defID == "" {
			defID = was
		} else if !strings.EqualFold(was, defID) {
			return arm.Errorf(http.StatusConflict, "ApplicationDefinitionIdCannotBeChanged",
				"The application definition of managed application '%s' cannot be changed.", appID.Name())
		}
	}
	def, err := p.definition(ctx, defID)
	if err != nil {
		return err
	}
	if canon == "ServiceCatalog" && old == nil {
		// A service catalog definition is shared through RBAC: the
		// customer needs read access to it (Marketplace offers are public).
		pr, _ := identity.PrincipalFrom(ctx)
		if !p.c.Allowed(ctx, pr, rbac.Request{Action: TypeDefinition + "/read", Scope: def.ID}) {
			return arm.Errorf(http.StatusForbidden, "LinkedAuthorizationFailed",
				"The client '%s' with object id '%s' has permission to create the application but not to read the linked application definition '%s'.",
				pr.ObjectID, pr.ObjectID, def.ID)
		}
	}
	props["applicationDefinitionId"] = def.ID
	if v := props["parameters"]; v != nil {
		if _, ok := v.(map[string]any); !ok {
			return invalid("The property 'properties.parameters' must be an object of {\"name\": {\"value\": ...}}.")
		}
	}
	for _, k := range readOnlyProps {
		delete(props, k)
		if old != nil && old[k] != nil {
			props[k] = old[k]
		}
	}
	dprops, _ := def.Doc["properties"].(map[string]any)
	props["provisioningState"] = "Accepted"
	props["authorizations"] = orEmptyList(dprops["authorizations"])
	props["artifacts"] = orEmptyList(dprops["artifacts"])
	mode := "Managed"
	if mp, ok := dprops["managementPolicy"].(map[string]any); ok {
		if m, _ := mp["mode"].(string); m == "Unmanaged" {
			mode = m
		}
	}
	props["managementMode"] = mode
	if props["publisherTenantId"] == nil {
		props["publisherTenantId"] = p.publisherTenant(ctx, def.ID)
	}
	if canon == "MarketPlace" && props["billingDetails"] == nil {
		props["billingDetails"] = map[string]any{"resourceUsageId": uuid.NewString()}
	}
	who := actor(ctx)
	if props["createdBy"] == nil {
		props["createdBy"] = who
	}
	props["updatedBy"] = who
	if props["outputs"] == nil {
		props["outputs"] = map[string]any{}
	}
	return nil
}

// checkPatch keeps a PATCH to what ApplicationPatchable may change: tags,
// plan, identity, managedBy and the customer's own properties. The
// definition, the managed resource group, the kind and the parameters stay
// (a change of parameters needs a PUT, which deploys again).
func (p *Provider) checkPatch(ctx context.Context, doc, existing map[string]any) error {
	old, _ := existing["properties"].(map[string]any)
	props, _ := doc["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		doc["properties"] = props
	}
	for _, k := range []string{"applicationDefinitionId", "managedResourceGroupId"} {
		if a, _ := props[k].(string); !strings.EqualFold(a, stringOf(old[k])) {
			return arm.Errorf(http.StatusConflict, "ApplicationPropertyCannotBeChanged",
				"The property '%s' of a managed application cannot be changed.", k)
		}
		props[k] = old[k]
	}
	if !reflect.DeepEqual(props["parameters"], old["parameters"]) {
		return invalid("The parameters of a managed application change with a PUT, which deploys the package again, not with a PATCH.")
	}
	if !strings.EqualFold(stringOf(doc["kind"]), stringOf(existing["kind"])) {
		return arm.Errorf(http.StatusConflict, "ApplicationPropertyCannotBeChanged", "The kind of a managed application cannot be changed.")
	}
	doc["kind"] = existing["kind"]
	for _, k := range readOnlyProps {
		delete(props, k)
		if old[k] != nil {
			props[k] = old[k]
		}
	}
	props["updatedBy"] = actor(ctx)
	return nil
}

// managedGroupOf checks the managed resource group of an application: a
// resource group of the application's subscription, not its own group,
// unchanged on update, and (on create) not existing yet. When the client
// names none, Azure's portal pattern mrg-{app}-{timestamp} is used.
func (p *Provider) managedGroupOf(ctx context.Context, app *arm.ResourceID, props, old map[string]any) (string, error) {
	given, _ := props["managedResourceGroupId"].(string)
	if old != nil {
		was := stringOf(old["managedResourceGroupId"])
		if given != "" && !strings.EqualFold(given, was) {
			return "", arm.Errorf(http.StatusConflict, "ApplicationPropertyCannotBeChanged",
				"The managed resource group of managed application '%s' cannot be changed.", app.Name())
		}
		return was, nil
	}
	if given == "" {
		name := "mrg-" + app.Name()
		if len(name) > 75 {
			name = name[:75]
		}
		given = "/subscriptions/" + app.SubscriptionID + "/resourceGroups/" + name + "-" + p.c.Now().Format("20060102150405")
	}
	r, err := arm.ParseResourceID(given)
	if err != nil || r.Kind() != arm.ScopeResourceGroup || !cloud.ValidResourceGroupName(r.ResourceGroup) {
		return "", invalid("The property 'properties.managedResourceGroupId' must be a resource group ID, /subscriptions/{subscriptionId}/resourceGroups/{name}.")
	}
	if !strings.EqualFold(r.SubscriptionID, app.SubscriptionID) {
		return "", invalid("The managed resource group must be in the subscription of the application, '%s'.", app.SubscriptionID)
	}
	if strings.EqualFold(r.ResourceGroup, app.ResourceGroup) {
		return "", invalid("The managed resource group must not be the resource group of the application.")
	}
	exists, err := p.c.Exists(ctx, r.String())
	if err != nil {
		return "", err
	}
	if exists {
		return "", arm.Errorf(http.StatusConflict, "ManagedResourceGroupAlreadyExists",
			"The managed resource group '%s' already exists. Name a resource group that does not exist; the application creates it.", r.ResourceGroup)
	}
	return r.String(), nil
}

// definition loads an enabled application definition.
func (p *Provider) definition(ctx context.Context, id string) (cloud.Resource, error) {
	if id == "" {
		return cloud.Resource{}, invalid("The property 'properties.applicationDefinitionId' is required: Steward creates applications from a definition (for MarketPlace applications it stands in for the plan's package).")
	}
	r, err := arm.ParseResourceID(id)
	if err != nil || !strings.EqualFold(r.ResourceType(), TypeDefinition) {
		return cloud.Resource{}, invalid("The property 'properties.applicationDefinitionId' must be the ID of a Microsoft.Solutions/applicationDefinitions resource.")
	}
	def, err := p.c.Get(ctx, r.String())
	if errors.Is(err, store.ErrNotFound) {
		return cloud.Resource{}, arm.NotFound("ApplicationDefinitionNotFound", "The application definition '%s' was not found.", r.Name())
	}
	if err != nil {
		return cloud.Resource{}, err
	}
	if props, _ := def.Doc["properties"].(map[string]any); props["isEnabled"] == false {
		return cloud.Resource{}, arm.BadRequest("ApplicationDefinitionDisabled", "The application definition '%s' is disabled.", r.Name())
	}
	return def, nil
}

// checkIdentity refuses a managed identity on the application: Steward
// does not create one for it, and storing the request would show an
// identity that does not exist.
func checkIdentity(v any) error {
	m, _ := v.(map[string]any)
	if v == nil || (m != nil && (m["type"] == nil || strings.EqualFold(stringOf(m["type"]), "None"))) {
		return nil
	}
	return arm.BadRequest("ManagedIdentityNotSupported",
		"Steward does not create managed identities for managed applications; leave 'identity' out or set its type to None.")
}

// checkPlan checks the plan of a MarketPlace application.
func checkPlan(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return invalid("A MarketPlace application needs a 'plan' {name, publisher, product, version}.")
	}
	for _, k := range []string{"name", "publisher", "product", "version"} {
		if s, _ := m[k].(string); s == "" {
			return invalid("The property 'plan.%s' is required for a MarketPlace application.", k)
		}
	}
	return nil
}

// actor is the createdBy/updatedBy of the caller.
func actor(ctx context.Context) map[string]any {
	pr, _ := identity.PrincipalFrom(ctx)
	out := map[string]any{"oid": pr.ObjectID}
	if pr.AppID != "" {
		out["applicationId"] = pr.AppID
	}
	return out
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func orEmptyList(v any) any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
