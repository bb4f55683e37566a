package cloud

import (
	"net/http"
	"sort"

	"github.com/steward-gov/steward/internal/arm"
)

// CodeResourceTypeNotImplemented is the error code of a write to a
// resource type whose behaviour Steward does not implement (see
// UnimplementedTypes). It is Steward's own: Azure implements them all.
const CodeResourceTypeNotImplemented = "ResourceTypeNotImplemented"

// unimplementedTypes are resource types whose behaviour Azure defines
// beyond storing the document, and which Steward does not implement: a
// generic PUT would store them and answer Succeeded without doing what
// the type promises. The value says what is missing. A type leaves the
// list by being implemented: a registered Route for it (Register) or a
// put hook (OnPut) lifts the refusal without editing this table. Keys
// are lower case. docs/cloud.md lists them for users.
var unimplementedTypes = map[string]string{
	"microsoft.resources/deployments":                   "template deployment: the template's resources would not be deployed, nor outputs computed",
	"microsoft.resources/deploymentscripts":             "deployment scripts: the script would not run",
	"microsoft.managedidentity/userassignedidentities":  "managed identities: no service principal (principalId, clientId) would be created",
	"microsoft.solutions/applications":                  "managed applications: no managed resource group would be created or template deployed",
	"microsoft.solutions/applicationdefinitions":        "managed application definitions: the package would not be validated or published",
	"microsoft.storage/storageaccounts":                 "storage accounts: no keys, endpoints or data plane (blobs, tables, queues) would exist",
	"microsoft.insights/scheduledqueryrules":            "log alert rules: the query would never be evaluated nor alerts fired",
	"microsoft.insights/actiongroups":                   "action groups: no notification would ever be sent",
	"microsoft.insights/metricalerts":                   "metric alerts: no metric is collected or evaluated",
	"microsoft.insights/activitylogalerts":              "activity log alerts: the activity log would not be watched",
	"microsoft.insights/datacollectionrules":            "data collection rules: no ingestion stream or transformation would exist",
	"microsoft.insights/datacollectionendpoints":        "data collection endpoints: no ingestion endpoint would exist",
	"microsoft.authorization/policyexemptions":          "policy exemptions: the exemption would not be applied",
	"microsoft.managedservices/registrationdefinitions": "Azure Lighthouse: no cross-tenant delegation would be granted",
	"microsoft.managedservices/registrationassignments": "Azure Lighthouse: no cross-tenant delegation would be granted",
	"microsoft.policyinsights/remediations":             "remediation tasks: no deployIfNotExists deployment or modify operation would be applied",
}

// BuiltInUnimplementedTypes returns the whole list, lower case and
// sorted, whatever is registered (for documentation).
func BuiltInUnimplementedTypes() []string {
	out := make([]string, 0, len(unimplementedTypes))
	for t := range unimplementedTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// UnimplementedTypes returns the resource types a generic write refuses
// on this Cloud (lower case, sorted): the built-in list minus the types a
// provider implements with a Route or a put hook.
func (c *Cloud) UnimplementedTypes() []string {
	var out []string
	for t := range unimplementedTypes {
		if _, refused := c.notImplemented(t); refused {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// notImplemented reports whether a generic write of the type must be
// refused, and what is missing.
func (c *Cloud) notImplemented(typ string) (string, bool) {
	k := typeKey(typ)
	missing, ok := unimplementedTypes[k]
	if !ok || c.routes.lookup(typ, "") != nil {
		return "", false
	}
	// Only the type's own hooks count: an AnyType hook implements no type.
	c.hooksMu.RLock()
	own := len(c.putHooks[k])
	c.hooksMu.RUnlock()
	if own > 0 {
		return "", false
	}
	return missing, true
}

// refuseUnimplemented is the error of a generic write to a type listed in
// unimplementedTypes.
func refuseUnimplemented(typ, missing string) *arm.Error {
	return arm.Errorf(http.StatusBadRequest, CodeResourceTypeNotImplemented,
		"Steward does not implement the resource type '%s' (%s), so it refuses to store it as if it were done. "+
			"Other resource types are stored as generic resources.", typ, missing)
}
