package template

import (
	"strings"
)

// buildID makes the ID of a resource of type typ (namespace/type[/child...])
// named names in the scope scopeID ("" for the tenant).
func buildID(scopeID, typ string, names []string) (string, error) {
	segs := strings.Split(typ, "/")
	if len(segs) < 2 {
		return "", templateErr("The resource type '%s' is not valid: it needs a resource provider namespace and a type.", typ)
	}
	types := segs[1:]
	if len(types) != len(names) {
		return "", templateErr("The resource '%s' of type '%s' has incorrect segment lengths. A nested resource type must have identical number of segments as its resource name.", strings.Join(names, "/"), typ)
	}
	for _, n := range names {
		if n == "" {
			return "", templateErr("The resource of type '%s' has an empty name segment.", typ)
		}
	}
	if strings.EqualFold(typ, "Microsoft.Resources/resourceGroups") && strings.HasPrefix(lower(scopeID), "/subscriptions/") && !strings.Contains(lower(scopeID), "/resourcegroups/") {
		return scopeID + "/resourceGroups/" + names[0], nil
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(scopeID, "/"))
	b.WriteString("/providers/")
	b.WriteString(segs[0])
	for i, t := range types {
		b.WriteString("/")
		b.WriteString(t)
		b.WriteString("/")
		b.WriteString(names[i])
	}
	return b.String(), nil
}

// relativeKey is the "namespace/type/name[/type/name]" form of a
// resource, which dependsOn may use instead of a full ID.
func relativeKey(typ string, names []string) string {
	segs := strings.Split(typ, "/")
	if len(segs) < 2 || len(segs)-1 != len(names) {
		return ""
	}
	var b strings.Builder
	b.WriteString(segs[0])
	for i, t := range segs[1:] {
		b.WriteString("/" + t + "/" + names[i])
	}
	return lower(b.String())
}

// splitIDArgs splits resourceId()-style arguments into the scope
// arguments before the type, the type and the names after it. The type is
// the first argument holding a '/'.
func splitIDArgs(fn string, args []any) (pre []string, typ string, names []string, err error) {
	strs := make([]string, len(args))
	for i, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, "", nil, templateErr("Unable to evaluate template language function '%s': argument %d must be a string.", fn, i+1)
		}
		strs[i] = s
	}
	for i, s := range strs {
		if strings.Contains(s, "/") {
			return strs[:i], s, strs[i+1:], nil
		}
	}
	return nil, "", nil, templateErr("Unable to evaluate template language function '%s': function requires exactly one multi-segmented argument which must be resource type including resource provider namespace. Current function arguments '%s'.", fn, strings.Join(strs, ","))
}

// idNames checks the name count against the type and returns the ID in
// scopeID.
func idIn(fn, scopeID, typ string, names []string) (string, error) {
	if len(strings.Split(typ, "/"))-1 != len(names) {
		return "", templateErr("Unable to evaluate template language function '%s': the type '%s' requires '%d' resource name argument(s).", fn, typ, len(strings.Split(typ, "/"))-1)
	}
	if strings.EqualFold(typ, "Microsoft.Resources/resourceGroups") && strings.HasPrefix(lower(scopeID), "/subscriptions/") {
		return scopeID + "/resourceGroups/" + names[0], nil
	}
	return buildID(scopeID, typ, names)
}

// resourceID is the template function resourceId.
func (x *expander) resourceID(args []any) (any, error) {
	pre, typ, names, err := splitIDArgs("resourceId", args)
	if err != nil {
		return nil, err
	}
	s := x.fnScope()
	var scopeID string
	switch len(pre) {
	case 0:
		scopeID = s.ID()
	case 1:
		if s.SubscriptionID == "" {
			return nil, templateErr("Unable to evaluate template language function 'resourceId': a resource group name needs a subscription scope.")
		}
		scopeID = "/subscriptions/" + s.SubscriptionID + "/resourceGroups/" + pre[0]
	case 2:
		scopeID = "/subscriptions/" + pre[0] + "/resourceGroups/" + pre[1]
	default:
		return nil, templateErr("Unable to evaluate template language function 'resourceId': too many arguments before the resource type.")
	}
	return idIn("resourceId", scopeID, typ, names)
}

func (x *expander) subscriptionResourceID(args []any) (any, error) {
	pre, typ, names, err := splitIDArgs("subscriptionResourceId", args)
	if err != nil {
		return nil, err
	}
	sub := x.fnScope().SubscriptionID
	switch len(pre) {
	case 0:
	case 1:
		sub = pre[0]
	default:
		return nil, templateErr("Unable to evaluate template language function 'subscriptionResourceId': too many arguments before the resource type.")
	}
	if sub == "" {
		return nil, templateErr("Unable to evaluate template language function 'subscriptionResourceId': the deployment has no subscription; pass the subscription ID.")
	}
	return idIn("subscriptionResourceId", "/subscriptions/"+sub, typ, names)
}

func (x *expander) tenantResourceID(args []any) (any, error) {
	pre, typ, names, err := splitIDArgs("tenantResourceId", args)
	if err != nil {
		return nil, err
	}
	if len(pre) > 0 {
		return nil, templateErr("Unable to evaluate template language function 'tenantResourceId': the first argument must be the resource type.")
	}
	return idIn("tenantResourceId", "", typ, names)
}

func (x *expander) managementGroupResourceID(args []any) (any, error) {
	pre, typ, names, err := splitIDArgs("managementGroupResourceId", args)
	if err != nil {
		return nil, err
	}
	mg := x.fnScope().ManagementGroup
	if len(pre) == 1 {
		mg = pre[0]
	} else if len(pre) > 1 {
		return nil, templateErr("Unable to evaluate template language function 'managementGroupResourceId': too many arguments before the resource type.")
	}
	if mg == "" {
		return nil, templateErr("Unable to evaluate template language function 'managementGroupResourceId': the deployment is not at a management group; pass its name.")
	}
	return idIn("managementGroupResourceId", "/providers/Microsoft.Management/managementGroups/"+mg, typ, names)
}

func (x *expander) extensionResourceID(args []any) (any, error) {
	if len(args) < 3 {
		return nil, templateErr("Unable to evaluate template language function 'extensionResourceId': it expects a resource ID, a type and names.")
	}
	base, ok := args[0].(string)
	if !ok || !strings.HasPrefix(base, "/") {
		return nil, templateErr("Unable to evaluate template language function 'extensionResourceId': the first argument must be a resource ID.")
	}
	pre, typ, names, err := splitIDArgs("extensionResourceId", args[1:])
	if err != nil {
		return nil, err
	}
	if len(pre) > 0 {
		return nil, templateErr("Unable to evaluate template language function 'extensionResourceId': the second argument must be the resource type.")
	}
	return idIn("extensionResourceId", strings.TrimRight(base, "/"), typ, names)
}
