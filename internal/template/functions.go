package template

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// host resolves the deployment functions for one evaluation frame; the
// rest of the language is armexpr's library.
func (x *expander) host(f *frame) armexpr.HostFunc {
	return func(name string, args []any) (any, bool, error) {
		if f.fn != nil {
			switch name {
			case "parameters":
				v, err := fnParam(f.fn, args)
				return v, true, err
			case "variables", "reference", "copyindex":
				return nil, true, templateErr("The template function '%s' is not allowed in a user-defined function.", name)
			}
		}
		switch name {
		case "parameters":
			if len(args) != 1 {
				return nil, true, templateErr("The template function 'parameters' expects exactly one argument.")
			}
			s, ok := args[0].(string)
			if !ok {
				return nil, true, templateErr("The template function 'parameters' expects a string argument.")
			}
			v, err := x.lookupParam(s)
			return v, true, err
		case "variables":
			if len(args) != 1 {
				return nil, true, templateErr("The template function 'variables' expects exactly one argument.")
			}
			s, ok := args[0].(string)
			if !ok {
				return nil, true, templateErr("The template function 'variables' expects a string argument.")
			}
			v, err := x.lookupVariable(s)
			return v, true, err
		case "copyindex":
			v, err := copyIndex(f, args)
			return v, true, err
		case "resourceid":
			v, err := x.resourceID(args)
			return v, true, err
		case "subscriptionresourceid":
			v, err := x.subscriptionResourceID(args)
			return v, true, err
		case "tenantresourceid":
			v, err := x.tenantResourceID(args)
			return v, true, err
		case "extensionresourceid":
			v, err := x.extensionResourceID(args)
			return v, true, err
		case "managementgroupresourceid":
			v, err := x.managementGroupResourceID(args)
			return v, true, err
		case "reference":
			v, err := x.reference(args, f)
			return v, true, err
		case "subscription":
			v, err := x.subscriptionFn(args)
			return v, true, err
		case "resourcegroup":
			v, err := x.resourceGroupFn(args)
			return v, true, err
		case "managementgroup":
			v, err := x.managementGroupFn(args)
			return v, true, err
		case "deployment":
			return x.deploymentFn(), true, nil
		case "environment":
			return x.environment(), true, nil
		case "tenant":
			return map[string]any{"countryCode": "US", "displayName": "Steward", "id": "/tenants/" + x.scope.TenantID, "tenantId": x.scope.TenantID}, true, nil
		case "newguid":
			if !f.paramDefault {
				return nil, true, notExpected("newGuid")
			}
			if x.opts.NewGUID == nil {
				return nil, true, templateErr("newGuid() has no GUID source in this expansion.")
			}
			return x.opts.NewGUID(), true, nil
		case "utcnow":
			if !f.paramDefault {
				return nil, true, notExpected("utcNow")
			}
			if len(args) == 0 {
				// Templates default to the compact ISO 8601 form; policy's
				// utcNow() (the library's) has fractional seconds.
				return x.now().Format("20060102T150405Z"), true, nil
			}
			return nil, false, nil // the library's, with the format given
		case "pickzones":
			v, err := pickZones(args)
			return v, true, err
		case "providers":
			return nil, true, templateErr("The template function 'providers' is deprecated and not supported by Steward.")
		}
		if strings.HasPrefix(name, "list") && name != "list" {
			v, err := x.list(name, args)
			return v, true, err
		}
		if strings.Contains(name, ".") {
			v, err := x.userFunction(name, args)
			return v, true, err
		}
		return nil, false, nil
	}
}

func notExpected(fn string) error {
	return templateErr("The template function '%s' is not expected at this location. The function can only be used in the default value of a parameter. Please see https://aka.ms/arm-template-expressions for usage details.", fn)
}

func fnParam(params map[string]any, args []any) (any, error) {
	if len(args) != 1 {
		return nil, templateErr("The template function 'parameters' expects exactly one argument.")
	}
	s, _ := args[0].(string)
	v, ok := keyFold(params, s)
	if !ok {
		return nil, templateErr("The function parameter '%s' is not defined.", s)
	}
	return v, nil
}

func copyIndex(f *frame, args []any) (any, error) {
	var loop string
	offset := int64(0)
	for _, a := range args {
		switch t := a.(type) {
		case string:
			loop = t
		case int64:
			offset = t
		default:
			return nil, templateErr("The template function 'copyIndex' expects a loop name and an integer offset.")
		}
	}
	if loop != "" {
		if i, ok := f.named[lower(loop)]; ok {
			return int64(i) + offset, nil
		}
		if f.loop != "" && strings.EqualFold(f.loop, loop) {
			return int64(f.idx) + offset, nil
		}
		return nil, templateErr("The template function 'copyIndex' has an invalid copy loop name '%s'. The provided copy name does not exist in the current context. Please see https://aka.ms/arm-copy for usage details.", loop)
	}
	if f.loop == "" {
		return nil, templateErr("The template function 'copyIndex' is not expected at this location. The function can only be used in a resource with copy specified. Please see https://aka.ms/arm-copy for usage details.")
	}
	return int64(f.idx) + offset, nil
}

// fnScope is the scope resourceGroup(), subscription(),
// managementGroup() and the resourceId() family answer for: an outer-scope
// nested template (the default) evaluates its expressions in its parent's
// context, so they answer for the parent's scope even when the nested
// deployment targets another resource group or subscription; its
// resources still deploy to the target (learn.microsoft.com, "ARM template
// functions in deployment scopes", function resolution in scopes).
func (x *expander) fnScope() Scope {
	e := x
	for e.outer && e.parent != nil {
		e = e.parent
	}
	return e.scope
}

func (x *expander) subscriptionFn(args []any) (any, error) {
	scope := x.fnScope()
	if scope.SubscriptionID == "" {
		return nil, templateErr("The template function 'subscription' is not expected at this location: the deployment is not in a subscription.")
	}
	sub := scope.SubscriptionID
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			sub = s
		}
	}
	return map[string]any{"id": "/subscriptions/" + sub, "subscriptionId": sub, "tenantId": scope.TenantID,
		"displayName": scope.SubscriptionName}, nil
}

func (x *expander) resourceGroupFn(args []any) (any, error) {
	scope := x.fnScope()
	if scope.ResourceGroup == "" {
		return nil, templateErr("The template function 'resourceGroup' is not expected at this location: the deployment is not in a resource group.")
	}
	if len(args) > 0 {
		return nil, templateErr("The template function 'resourceGroup' takes no argument in a template.")
	}
	tags := scope.ResourceGroupTags
	if tags == nil {
		tags = map[string]any{}
	}
	return map[string]any{"id": scope.ID(), "name": scope.ResourceGroup, "type": "Microsoft.Resources/resourceGroups",
		"location": scope.Location, "tags": tags, "properties": map[string]any{"provisioningState": "Succeeded"}}, nil
}

func (x *expander) managementGroupFn(args []any) (any, error) {
	mg := x.fnScope().ManagementGroup
	if len(args) > 0 {
		if s, ok := args[0].(string); ok {
			return map[string]any{"id": "/providers/Microsoft.Management/managementGroups/" + s, "name": s, "type": "Microsoft.Management/managementGroups"}, nil
		}
	}
	if mg == "" {
		return nil, templateErr("The template function 'managementGroup' is not expected at this location: the deployment is not at a management group.")
	}
	return map[string]any{"id": "/providers/Microsoft.Management/managementGroups/" + mg, "name": mg,
		"type":       "Microsoft.Management/managementGroups",
		"properties": map[string]any{"tenantId": x.fnScope().TenantID, "displayName": mg}}, nil
}

func (x *expander) deploymentFn() any {
	tmpl := map[string]any{"contentVersion": stringFold(x.t.Doc, "contentVersion")}
	if md, ok := keyFold(x.t.Doc, "metadata"); ok {
		tmpl["metadata"] = md
	}
	props := map[string]any{"template": tmpl, "mode": orStr(x.opts.Mode, "Incremental"), "provisioningState": "Accepted"}
	if x.opts.TemplateLink != nil && x.parent == nil {
		props["templateLink"] = x.opts.TemplateLink
	}
	d := map[string]any{"name": x.deploymentName, "properties": props}
	if x.scope.Kind() != "resourceGroup" && x.scope.Location != "" {
		d["location"] = x.scope.Location
	}
	return d
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// environment is environment(): AzureCloud's endpoints unless the host
// gives its own.
func (x *expander) environment() any {
	if x.opts.Environment != nil {
		return x.opts.Environment
	}
	return map[string]any{
		"name":                    "AzureCloud",
		"gallery":                 "https://gallery.azure.com/",
		"graph":                   "https://graph.windows.net/",
		"portal":                  "https://portal.azure.com",
		"graphAudience":           "https://graph.windows.net/",
		"activeDirectoryDataLake": "https://datalake.azure.net/",
		"batch":                   "https://batch.core.windows.net/",
		"media":                   "https://rest.media.azure.net",
		"sqlManagement":           "https://management.core.windows.net:8443/",
		"vmImageAliasDoc":         "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
		"resourceManager":         "https://management.azure.com/",
		"authentication": map[string]any{
			"loginEndpoint":    "https://login.microsoftonline.com/",
			"audiences":        []any{"https://management.core.windows.net/", "https://management.azure.com/"},
			"tenant":           "common",
			"identityProvider": "AAD",
		},
		"suffixes": map[string]any{
			"acrLoginServer":                      ".azurecr.io",
			"azureDatalakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
			"azureDatalakeStoreFileSystem":        "azuredatalakestore.net",
			"azureFrontDoorEndpointSuffix":        "azurefd.net",
			"keyvaultDns":                         ".vault.azure.net",
			"sqlServerHostname":                   ".database.windows.net",
			"storage":                             "core.windows.net",
		},
	}
}

// zonalRegions are the regions with availability zones that pickZones
// answers for.
var zonalRegions = map[string]bool{
	"eastus": true, "eastus2": true, "centralus": true, "southcentralus": true, "westus2": true, "westus3": true,
	"northeurope": true, "westeurope": true, "uksouth": true, "francecentral": true, "germanywestcentral": true,
	"swedencentral": true, "norwayeast": true, "switzerlandnorth": true, "polandcentral": true, "italynorth": true,
	"japaneast": true, "koreacentral": true, "southeastasia": true, "eastasia": true, "australiaeast": true,
	"centralindia": true, "canadacentral": true, "brazilsouth": true, "southafricanorth": true, "uaenorth": true,
	"qatarcentral": true, "israelcentral": true,
}

// zonalTypes are the resource types that take zones.
var zonalTypes = map[string]bool{
	"microsoft.compute/virtualmachines": true, "microsoft.compute/virtualmachinescalesets": true,
	"microsoft.compute/disks": true, "microsoft.network/publicipaddresses": true,
	"microsoft.network/natgateways": true, "microsoft.network/applicationgateways": true,
	"microsoft.network/loadbalancers": true, "microsoft.sql/servers/databases": true,
	"microsoft.containerservice/managedclusters": true, "microsoft.storage/storageaccounts": true,
}

// pickZones(namespace, type, location, [count], [offset]) returns zone
// numbers as strings, or an empty array where the type or region has no
// zones.
func pickZones(args []any) (any, error) {
	if len(args) < 3 || len(args) > 5 {
		return nil, templateErr("The template function 'pickZones' expects 3 to 5 arguments.")
	}
	var s [3]string
	for i := 0; i < 3; i++ {
		v, ok := args[i].(string)
		if !ok {
			return nil, templateErr("The template function 'pickZones' expects string arguments for the provider, type and location.")
		}
		s[i] = v
	}
	count, offset := int64(1), int64(0)
	if len(args) > 3 {
		c, ok := args[3].(int64)
		if !ok {
			return nil, templateErr("The template function 'pickZones' expects an integer zone count.")
		}
		count = c
	}
	if len(args) > 4 {
		o, ok := args[4].(int64)
		if !ok {
			return nil, templateErr("The template function 'pickZones' expects an integer offset.")
		}
		offset = o
	}
	loc := strings.ToLower(strings.ReplaceAll(s[2], " ", ""))
	if !zonalTypes[lower(s[0]+"/"+s[1])] || !zonalRegions[loc] {
		return []any{}, nil
	}
	out := []any{}
	for i := int64(0); i < count && i < 3; i++ {
		out = append(out, fmt.Sprint((offset+i)%3+1))
	}
	return out, nil
}
