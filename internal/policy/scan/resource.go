package scan

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// The container types, as policy rules name them.
const (
	typeSubscription  = "Microsoft.Resources/subscriptions"
	typeResourceGroup = "Microsoft.Resources/subscriptions/resourceGroups"
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// normalizeResource checks that a record is a resource (it has an ID ARM
// can parse) and fills in what exports leave out or spell differently:
// the type when only the ID says it, the resource group type az group
// list prints (Microsoft.Resources/resourceGroups), the bare subscription
// GUID az account list prints as id.
func normalizeResource(doc map[string]any) error {
	id := lookupString(doc, "id")
	typ := lookupString(doc, "type")
	if v, ok := lookup(doc, "id"); ok && id == "" && v != nil {
		return fmt.Errorf("id must be a string, got %s", kindOf(v))
	}
	if id == "" {
		return fmt.Errorf("resource has no id")
	}
	if len(id) == 36 && guidRE.MatchString(id) {
		if _, ok := lookup(doc, "tenantId"); ok && typ == "" {
			id, typ = "/subscriptions/"+id, typeSubscription
			setKey(doc, "id", id)
			if sid := lookupString(doc, "subscriptionId"); sid == "" {
				setKey(doc, "subscriptionId", strings.TrimPrefix(id, "/subscriptions/"))
			}
		}
	}
	rid, err := arm.ParseResourceID(id)
	if err != nil {
		return fmt.Errorf("id %q: %v", id, err)
	}
	switch {
	case typ == "":
		typ = rid.ResourceType()
	case strings.EqualFold(typ, "Microsoft.Resources/resourceGroups"):
		typ = typeResourceGroup
	}
	if rid.Kind() == arm.ScopeRoot || rid.ManagementGroup != "" && rid.SubscriptionID == "" {
		return fmt.Errorf("id %q is not a subscription, resource group or resource", id)
	}
	setKey(doc, "type", typ)
	if lookupString(doc, "name") == "" {
		setKey(doc, "name", rid.Name())
	}
	return nil
}

// setKey sets a key, replacing a differently-cased spelling of it.
func setKey(m map[string]any, key string, v any) {
	for k := range m {
		if strings.EqualFold(k, key) && k != key {
			delete(m, k)
		}
	}
	m[key] = v
}
