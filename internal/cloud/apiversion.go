package cloud

import (
	"net/url"
	"slices"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// ResourcesAPIVersions are the Microsoft.Resources api-versions Steward
// accepts for subscriptions, resource groups, generic resources and tags
// (the stable versions of the resources spec).
var ResourcesAPIVersions = []string{
	"2014-04-01", "2015-01-01", "2015-11-01", "2016-02-01", "2016-07-01", "2016-09-01", "2017-05-10",
	"2018-02-01", "2018-05-01", "2019-03-01", "2019-05-01", "2019-05-10", "2019-07-01", "2019-08-01",
	"2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-01-01",
	"2022-09-01", "2022-12-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01",
	"2025-04-01",
}

// SubscriptionsAPIVersions are the api-versions accepted for the
// subscription list and a subscription: ARM serves them from the
// subscriptions spec (Microsoft.Resources/stable/*/subscriptions.json),
// whose versions (2016-06-01, 2018-06-01, 2019-06-01, 2019-11-01,
// 2020-01-01, 2021-01-01, 2022-12-01) differ from the resources spec's, and
// Steward also keeps accepting the resources spec's versions it always did.
// The Azure CLI 2.45 lists subscriptions with 2019-11-01.
var SubscriptionsAPIVersions = mergeVersions(ResourcesAPIVersions,
	"2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01")

// mergeVersions returns base and extra as one sorted list without
// duplicates.
func mergeVersions(base []string, extra ...string) []string {
	out := slices.Concat(base, extra)
	slices.Sort(out)
	return slices.Compact(out)
}

// ManagementAPIVersions are the Microsoft.Management api-versions accepted
// for management groups.
var ManagementAPIVersions = []string{
	"2017-11-01-preview", "2018-01-01-preview", "2018-03-01-preview", "2019-11-01", "2020-02-01",
	"2020-05-01", "2020-10-01", "2021-04-01", "2023-04-01",
}

// checkAPIVersion validates the api-version query parameter against the
// route's list (or, for routes without one, its form) as ARM does.
func checkAPIVersion(q url.Values, t Target, route *Route) (string, error) {
	vs, ok := q["api-version"]
	if !ok || len(vs) == 0 || strings.TrimSpace(vs[0]) == "" {
		return "", arm.BadRequest("MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.")
	}
	v := vs[0]
	if len(vs) > 1 || !wellFormedVersion(v) {
		return "", invalidVersion(v, t.Type, route.APIVersions)
	}
	if len(route.APIVersions) == 0 {
		return v, nil
	}
	for _, s := range route.APIVersions {
		if strings.EqualFold(s, v) {
			return s, nil
		}
	}
	return "", invalidVersion(v, t.Type, route.APIVersions)
}

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
