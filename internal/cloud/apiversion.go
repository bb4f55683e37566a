package cloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// ResourcesAPIVersions are the Microsoft.Resources api-versions Steward
// accepts for resource groups, generic resource lists, tags and operation
// results: the versions of the resources spec
// (Microsoft.Resources/resources.json), generated in internal/arm from
// azure-rest-api-specs, and the older ones ARM registers.
var ResourcesAPIVersions = arm.TypeAPIVersions(TypeResourceGroup)

// SubscriptionsAPIVersions are the api-versions accepted for the
// subscription list and a subscription: ARM serves them from the
// subscriptions spec (Microsoft.Resources/subscriptions.json), whose
// versions differ from the resources spec's, and Steward also keeps
// accepting the resources spec's versions it always did. The Azure CLI
// 2.45 lists subscriptions with 2019-11-01.
var SubscriptionsAPIVersions = arm.TypeAPIVersions(TypeSubscription)

// ManagementAPIVersions are the Microsoft.Management api-versions accepted
// for management groups (the management groups spec's versions).
var ManagementAPIVersions = arm.TypeAPIVersions(TypeManagementGroup)

// checkAPIVersion validates the api-version query parameter against the
// route's list, or for routes without one the published versions of the
// type (arm.TypeAPIVersions), or for other types its form, as ARM does.
func (c *Cloud) checkAPIVersion(ctx context.Context, r *http.Request, q url.Values, t Target, route *Route) (string, error) {
	vs, ok := q["api-version"]
	if !ok || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
		return "", arm.BadRequest("MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
	}
	supported := route.APIVersions
	if len(supported) == 0 {
		supported = arm.TypeAPIVersions(t.Type)
	}
	v := vs[0]
	if len(vs) > 1 || !wellFormedVersion(v) {
		return "", invalidVersion(v, t.Type, supported)
	}
	if len(supported) == 0 {
		return v, nil
	}
	for _, s := range supported {
		if strings.EqualFold(s, v) {
			return s, nil
		}
	}
	return "", c.unsupportedVersion(ctx, r, v, t, supported)
}

// unsupportedVersion is ARM's answer to a well-formed api-version the type
// does not have, which depends on who serves the type: ARM itself
// (Microsoft.Resources, Microsoft.Management) answers
// InvalidApiVersionParameter; a resource provider whose types have a
// location answers NoRegisteredProviderFound naming the location; other
// provider types (Microsoft.Authorization, Microsoft.PolicyInsights, ...)
// answer InvalidResourceType. Each names the supported versions.
func (c *Cloud) unsupportedVersion(ctx context.Context, r *http.Request, v string, t Target, supported []string) *arm.Error {
	ns, typ, _ := strings.Cut(t.Type, "/")
	switch {
	case strings.EqualFold(ns, "Microsoft.Resources") || strings.EqualFold(ns, "Microsoft.Management"):
		return invalidVersion(v, t.Type, supported)
	case arm.IsLocatedType(t.Type):
		return arm.BadRequest("NoRegisteredProviderFound",
			"No registered resource provider found for location '%s' and API version '%s' for type '%s'. The supported api-versions are '%s'.",
			c.locationOf(ctx, r, t), v, typ, strings.Join(newestFirst(supported), ", "))
	}
	return arm.BadRequest("InvalidResourceType",
		"The resource type '%s' could not be found in the namespace '%s' for api version '%s'. The supported api-versions are '%s'.",
		typ, ns, v, strings.Join(supported, ","))
}

// newestFirst returns vs (sorted oldest first) in the reverse order, as
// NoRegisteredProviderFound lists them.
func newestFirst(vs []string) []string {
	out := slices.Clone(vs)
	slices.Reverse(out)
	return out
}

// locationOf is the location NoRegisteredProviderFound names: the stored
// resource's (or its parent's) location, else the location of the request
// body of a PUT, else "global". It is only called on the error path.
func (c *Cloud) locationOf(ctx context.Context, r *http.Request, t Target) string {
	for _, id := range []string{t.ID, t.Scope} {
		if id == "" {
			continue
		}
		if res, err := c.Get(ctx, id); err == nil {
			if loc, _ := res.Doc["location"].(string); loc != "" {
				return loc
			}
		}
	}
	if r != nil && r.Method == http.MethodPut && r.Body != nil {
		var body struct {
			Location string `json:"location"`
		}
		if json.NewDecoder(io.LimitReader(r.Body, maxLocationPeek)).Decode(&body) == nil && body.Location != "" && len(body.Location) <= 64 {
			return body.Location
		}
	}
	return "global"
}

// maxLocationPeek bounds the body read to find a PUT's location.
const maxLocationPeek = 1 << 20

func invalidVersion(v, typ string, supported []string) *arm.Error {
	if len(v) > 40 {
		v = v[:40]
	}
	if len(supported) == 0 {
		return arm.BadRequest("InvalidApiVersionParameter",
			"The api-version '%s' is invalid. The supported versions are in the form 'yyyy-mm-dd' or 'yyyy-mm-dd-preview'.", v)
	}
	return arm.BadRequest("InvalidApiVersionParameter",
		"The api-version '%s' is invalid. The supported versions are '%s'.", v, strings.Join(supported, ","))
}

// wellFormedVersion accepts yyyy-mm-dd with an optional suffix such as
// "-preview" or "-beta".
func wellFormedVersion(v string) bool {
	if len(v) < 10 || len(v) > 30 {
		return false
	}
	for i := 0; i < 10; i++ {
		c := v[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	rest := v[10:]
	if rest == "" {
		return true
	}
	if rest[0] != '-' || len(rest) < 2 {
		return false
	}
	for _, c := range rest[1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	return true
}

// LatestAPIVersion returns the newest api-version the type's route
// accepts, a stable one before any preview, or "" when the type has no
// route or its route lists none. Compliance evaluation, which runs outside
// any request, gives it to requestContext().apiVersion, as Azure uses the
// latest api-version there.
func (c *Cloud) LatestAPIVersion(typ string) string {
	rt := c.routes.lookup(typ, "")
	if rt == nil {
		return ""
	}
	latest := ""
	for _, v := range rt.APIVersions {
		switch curPre, vPre := arm.IsPreviewAPIVersion(latest), arm.IsPreviewAPIVersion(v); {
		case latest == "":
		case curPre != vPre:
			if vPre {
				continue
			}
		case arm.CompareAPIVersions(v, latest) <= 0:
			continue
		}
		latest = v
	}
	return latest
}
