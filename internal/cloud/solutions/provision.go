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
	"github.com/steward-gov/steward/internal/cloud"
	"github.com/steward-gov/steward/internal/rbac"
	"github.com/steward-gov/steward/internal/store"
)

// api-versions of the requests the provider makes on its own behalf.
const (
	deploymentsAPIVersion = "2021-04-01"
	policyAPIVersion      = "2022-06-01"
)

// provision brings the managed resource group to what the definition
// says: the group itself (managedBy the application), the provider's own
// Owner grant, the mainTemplate deployed with the application's
// parameters, the definition's policies assigned, the publisher's
// authorizations granted, and the deny assignment of the lock level. It
// returns the deployment's outputs. Every step is idempotent, so a PUT of
// an existing application provisions again.
func (p *Provider) provision(ctx context.Context, call *cloud.Call, app cloud.Resource, created bool) (map[string]any, error) {
	props, _ := app.Doc["properties"].(map[string]any)
	mrg := stringOf(props["managedResourceGroupId"])
	def, err := p.definition(ctx, stringOf(props["applicationDefinitionId"]))
	if err != nil {
		return nil, err
	}
	dprops, _ := def.Doc["properties"].(map[string]any)
	if err := p.ensureGroup(ctx, app, mrg); err != nil {
		return nil, err
	}
	if err := p.grant(ctx, mrg, rbac.OwnerRoleID, ProviderObjectID, "ServicePrincipal"); err != nil {
		return nil, err
	}
	if created {
		// Azure's PUT Accepted: the managed resource group exists, the
		// deployment in it has not started.
		p.enqueue(ctx, app.Doc, "PUT", "Accepted", nil)
	}
	outputs, err := p.deploy(ctx, call, app, mrg, dprops)
	if err != nil {
		return nil, err
	}
	if err := p.assignPolicies(ctx, call, mrg, dprops); err != nil {
		return nil, err
	}
	auths, _ := dprops["authorizations"].([]any)
	for _, a := range auths {
		m, _ := a.(map[string]any)
		if err := p.grant(ctx, mrg, roleGUID(stringOf(m["roleDefinitionId"])), stringOf(m["principalId"]), ""); err != nil {
			return nil, err
		}
	}
	if err := p.applyDeny(ctx, app, mrg, dprops); err != nil {
		return nil, err
	}
	return outputs, nil
}

// ensureGroup creates the managed resource group, managedBy the
// application, in the application's location.
func (p *Provider) ensureGroup(ctx context.Context, app cloud.Resource, mrg string) error {
	g, err := p.c.Get(ctx, mrg)
	switch {
	case err == nil:
		if !strings.EqualFold(stringOf(g.Doc["managedBy"]), app.ID) {
			return arm.Errorf(http.StatusConflict, "ManagedResourceGroupAlreadyExists",
				"The managed resource group '%s' exists and is not managed by this application.", lastSegment(mrg))
		}
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	doc := map[string]any{
		"id": mrg, "name": lastSegment(mrg), "type": "Microsoft.Resources/resourceGroups",
		"location":   cloud.NormalizeLocation(stringOf(app.Doc["location"])),
		"managedBy":  app.ID,
		"properties": map[string]any{"provisioningState": "Succeeded"},
	}
	_, _, err = p.c.Put(ctx, nil, cloud.PutRequest{ID: mrg, Type: cloud.TypeResourceGroup, Doc: doc})
	return err
}

// grant gives principal the role on the managed resource group (a
// platform write: cross-tenant principals are not looked up in the
// customer's directory, as Azure does not either).
func (p *Provider) grant(ctx context.Context, mrg, role, principal, principalType string) error {
	if _, ok := p.c.Engine().Catalog().Get(role); !ok {
		// A grant the RBAC engine cannot index would be stored and never
		// take effect.
		return arm.BadRequest("RoleDefinitionDoesNotExist",
			"The role definition '%s' of the application definition's authorizations does not exist.", role)
	}
	doc := rbac.RoleAssignmentDocument(mrg, role, principal, principalType)
	id := stringOf(doc["id"])
	if ok, err := p.c.Exists(ctx, id); err != nil || ok {
		return err
	}
	_, _, err := p.c.Put(ctx, nil, cloud.PutRequest{ID: id, Type: cloud.TypeRoleAssignment, Doc: doc})
	return err
}

// deploy runs the definition's mainTemplate in the managed resource group
// as the provider, and returns the deployment's outputs.
func (p *Provider) deploy(ctx context.Context, call *cloud.Call, app cloud.Resource, mrg string, dprops map[string]any) (map[string]any, error) {
	mode := "Incremental"
	if dp, ok := dprops["deploymentPolicy"].(map[string]any); ok && stringOf(dp["deploymentMode"]) == "Complete" {
		mode = "Complete"
	}
	props, _ := app.Doc["properties"].(map[string]any)
	params, _ := props["parameters"].(map[string]any)
	if params == nil {
		params = map[string]any{}
	}
	name := lastSegment(app.ID)
	if len(name) > 64 {
		name = name[:64]
	}
	path := mrg + "/providers/Microsoft.Resources/deployments/" + url.PathEscape(name)
	body := map[string]any{"properties": map[string]any{"mode": mode, "template": dprops["mainTemplate"], "parameters": params}}
	status, out := p.c.ServeAs(ctx, call, p.principal(), http.MethodPut, path, deploymentsAPIVersion, body)
	if status >= 300 {
		return nil, arm.DecodeError(status, out)
	}
	status, out = p.c.ServeAs(ctx, call, p.principal(), http.MethodGet, path, deploymentsAPIVersion, nil)
	if status != http.StatusOK {
		return nil, arm.DecodeError(status, out)
	}
	var dep struct {
		Properties struct {
			ProvisioningState string         `json:"provisioningState"`
			Outputs           map[string]any `json:"outputs"`
			Error             *arm.Error     `json:"error"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(out, &dep); err != nil {
		return nil, err
	}
	if dep.Properties.ProvisioningState != "Succeeded" {
		if dep.Properties.Error != nil {
			return nil, dep.Properties.Error
		}
		return nil, arm.BadRequest("DeploymentFailed", "The deployment of the application's template ended %s.", dep.Properties.ProvisioningState)
	}
	if dep.Properties.Outputs == nil {
		return map[string]any{}, nil
	}
	return dep.Properties.Outputs, nil
}

// assignPolicies assigns the definition's policies at the managed
// resource group, as the provider, through the policy provider.
func (p *Provider) assignPolicies(ctx context.Context, call *cloud.Call, mrg string, dprops map[string]any) error {
	list, _ := dprops["policies"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		name := stringOf(m["name"])
		params, err := policyParameters(m["parameters"])
		if err != nil {
			return err
		}
		body := map[string]any{"properties": map[string]any{
			"displayName":        name,
			"policyDefinitionId": stringOf(m["policyDefinitionId"]),
			"parameters":         params,
			"enforcementMode":    "Default",
		}}
		path := mrg + "/providers/Microsoft.Authorization/policyAssignments/" + url.PathEscape(name)
		status, out := p.c.ServeAs(ctx, call, p.principal(), http.MethodPut, path, policyAPIVersion, body)
		if status >= 300 {
			return arm.DecodeError(status, out)
		}
	}
	return nil
}

// applyDeny writes the deny assignment of the definition's lock level on
// the managed resource group: every principal is denied every action but
// reads (ReadOnly) or every delete (CanNotDelete), apart from the actions
// the definition's lockingPolicy allows; the publisher's authorized
// principals and the provider itself are excluded. None writes none.
func (p *Provider) applyDeny(ctx context.Context, app cloud.Resource, mrg string, dprops map[string]any) error {
	var perm rbac.Permission
	switch stringOf(dprops["lockLevel"]) {
	case "ReadOnly":
		perm = rbac.Permission{Actions: []string{"*"}, NotActions: []string{"*/read"}, DataActions: []string{}, NotDataActions: []string{}}
	case "CanNotDelete":
		perm = rbac.Permission{Actions: []string{"*/delete"}, NotActions: []string{}, DataActions: []string{}, NotDataActions: []string{}}
	default:
		return nil
	}
	if lp, ok := dprops["lockingPolicy"].(map[string]any); ok {
		a, _ := stringList(lp["allowedActions"])
		d, _ := stringList(lp["allowedDataActions"])
		perm.NotActions = append(perm.NotActions, a...)
		perm.NotDataActions = append(perm.NotDataActions, d...)
	}
	exclude := []rbac.PrincipalRef{{ID: ProviderObjectID, Type: "ServicePrincipal"}}
	auths, _ := dprops["authorizations"].([]any)
	seen := map[string]bool{strings.ToLower(ProviderObjectID): true}
	for _, a := range auths {
		m, _ := a.(map[string]any)
		id := stringOf(m["principalId"])
		if id != "" && !seen[strings.ToLower(id)] {
			seen[strings.ToLower(id)] = true
			exclude = append(exclude, rbac.PrincipalRef{ID: id})
		}
	}
	name := uuid.NewSHA1(uuid.NameSpaceURL, []byte("steward-managedapp-deny:"+strings.ToLower(app.ID))).String()
	da := &rbac.DenyAssignment{
		ID:    mrg + "/providers/Microsoft.Authorization/denyAssignments/" + name,
		Name:  name,
		Scope: mrg,
		Description: "Created by the managed application " + app.ID +
			": the managed resource group is locked to the customer; the publisher's authorized principals are excluded.",
		Permissions:       []rbac.Permission{perm},
		Principals:        []rbac.PrincipalRef{{ID: "00000000-0000-0000-0000-000000000000", Type: "SystemDefined"}},
		ExcludePrincipals: exclude,
		IsSystemProtected: true,
	}
	b, err := json.Marshal(da)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	doc["properties"].(map[string]any)["denyAssignmentName"] = "Deny assignment for managed application " + lastSegment(app.ID)
	_, _, err = p.c.Put(ctx, nil, cloud.PutRequest{ID: da.ID, Type: cloud.TypeDenyAssignment, Doc: doc})
	return err
}

func lastSegment(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}
