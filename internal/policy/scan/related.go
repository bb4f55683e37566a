package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/policy"
)

// Index holds what a scan needs to know beyond the resource in hand:
// resource groups and subscriptions (for resourceGroup() and
// subscription()) and the resources of the types auditIfNotExists and
// deployIfNotExists policies look for. It is built in a first pass over
// the estate and read-only afterwards.
type Index struct {
	containers map[string]map[string]any // lower-case ID -> document
	types      map[string]bool           // lower-case related types
	all        bool
	// byType maps a lower-case type to its resources by lower-case ID.
	byType map[string][]indexed
	// extension holds the lower-case types of which an extension
	// resource is indexed (policy.IsExtensionResourceID).
	extension map[string]bool
	// Count is the number of resources indexed for related lookups.
	Count int
}

// indexed is a related resource kept as compact JSON (a fifth of its
// decoded size) and decoded when a lookup selects it.
type indexed struct {
	id   string // lower case
	name string
	raw  []byte
}

// NewIndex returns an index that keeps the given related types (all
// types when all is true).
func NewIndex(types map[string]bool, all bool) *Index {
	return &Index{containers: map[string]map[string]any{}, types: types, all: all, byType: map[string][]indexed{}, extension: map[string]bool{}}
}

// Wants is the first pass's cheap filter on a raw record: it may hold a
// container or a related type.
func (x *Index) Wants(raw []byte) bool { return x.wants(raw) }

// filter is Wants for one goroutine, without a lower-cased copy of each
// record: ASCII records are searched case-insensitively in place (the
// same answer, as only A-Z change case in ASCII), others as Wants does.
func (x *Index) filter() func([]byte) bool {
	needles := [][]byte{[]byte(`microsoft.resources/`)}
	for t := range x.types {
		needles = append(needles, []byte(t+`"`))
	}
	return func(raw []byte) bool {
		if x.all || !isASCII(raw) {
			return x.Wants(raw)
		}
		if bytes.Contains(raw, []byte(`\/`)) {
			return true
		}
		for _, n := range needles {
			if containsFoldASCII(raw, n) {
				return true
			}
		}
		return false
	}
}

func (x *Index) wants(raw []byte) bool {
	if x.all {
		return true
	}
	low := bytes.ToLower(raw)
	if bytes.Contains(low, []byte(`microsoft.resources/`)) || bytes.Contains(raw, []byte(`\/`)) {
		return true // a container, or escaped slashes the filter cannot see through
	}
	for t := range x.types {
		if bytes.Contains(low, []byte(t+`"`)) {
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// containsFoldASCII reports whether the ASCII text b contains needle (lower
// case, ending in a byte that is not a letter) in any letter case: it
// looks at each occurrence of needle's last byte.
func containsFoldASCII(b, needle []byte) bool {
	n := len(needle)
	last := needle[n-1]
	for i := n - 1; i < len(b); {
		j := bytes.IndexByte(b[i:], last)
		if j < 0 {
			return false
		}
		i += j
		if equalFoldASCII(b[i-n+1:i], needle[:n-1]) {
			return true
		}
		i++
	}
	return false
}

// equalFoldASCII compares ASCII a with lower-case b, ignoring the case of a.
func equalFoldASCII(a, b []byte) bool {
	for k, c := range a {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[k] {
			return false
		}
	}
	return true
}

// Add indexes a resource document if it is a container or of a related
// type.
func (x *Index) Add(doc map[string]any) {
	typ := strings.ToLower(lookupString(doc, "type"))
	id := strings.ToLower(lookupString(doc, "id"))
	switch typ {
	case strings.ToLower(typeResourceGroup):
		x.containers[id] = withDefaults(doc, map[string]any{"managedBy": "", "tags": map[string]any{},
			"properties": map[string]any{"provisioningState": "Succeeded"}})
	case strings.ToLower(typeSubscription):
		sid := id[strings.LastIndexByte(id, '/')+1:]
		x.containers[id] = withDefaults(doc, map[string]any{"subscriptionId": sid, "displayName": lookupString(doc, "name")})
	}
	if x.all || x.types[typ] {
		raw, err := json.Marshal(doc)
		if err != nil {
			return
		}
		x.byType[typ] = append(x.byType[typ], indexed{id: id, name: lookupString(doc, "name"), raw: raw})
		if policy.IsExtensionResourceID(id) {
			x.extension[typ] = true
		}
		x.Count++
	}
}

// containerValues returns what resourceGroup() and subscription() see
// for a resource: the documents from the estate when it has them, else
// the names and IDs taken from the resource ID.
func (x *Index) containerValues(id string) (rg, sub map[string]any) {
	rid, err := arm.ParseResourceID(id)
	if err != nil || rid.SubscriptionID == "" {
		return nil, nil
	}
	subID := "/subscriptions/" + rid.SubscriptionID
	if d, ok := x.containers[strings.ToLower(subID)]; ok {
		sub = d
	} else {
		sub = map[string]any{"id": subID, "subscriptionId": rid.SubscriptionID, "displayName": rid.SubscriptionID}
	}
	if rid.ResourceGroup == "" {
		return nil, sub
	}
	rgID := subID + "/resourceGroups/" + rid.ResourceGroup
	if d, ok := x.containers[strings.ToLower(rgID)]; ok {
		rg = d
	} else {
		rg = map[string]any{"id": rgID, "name": rid.ResourceGroup, "type": typeResourceGroup, "managedBy": "",
			"tags": map[string]any{}, "properties": map[string]any{"provisioningState": "Succeeded"}}
	}
	return rg, sub
}

// withDefaults returns a copy of doc with the keys of defaults it lacks.
func withDefaults(doc, defaults map[string]any) map[string]any {
	out := make(map[string]any, len(doc)+len(defaults))
	for k, v := range doc {
		out[k] = v
	}
	for k, v := range defaults {
		if _, ok := lookup(doc, k); !ok {
			out[k] = v
		}
	}
	return out
}

// Related answers the engine's related-resource queries from the estate
// (the rule is in docs/decisions/scan.md):
//   - a type below the evaluated resource's type (its child type), or an
//     extension type (Microsoft.Insights/diagnosticSettings): resources of
//     that type under the evaluated resource;
//   - otherwise the resources of that type in the evaluated resource's
//     resource group (details.resourceGroupName when given), or in its
//     subscription with existenceScope Subscription;
//   - details.name, when given, must equal the related resource's name
//     or full name ("server/db"); a "?" segment matches any name.
func (x *Index) Related(_ context.Context, q policy.RelatedQuery) ([]map[string]any, error) {
	typ := strings.ToLower(q.Type)
	cands := x.byType[typ]
	if len(cands) == 0 {
		return nil, nil
	}
	resID := strings.ToLower(q.Resource.ID())
	var scope string
	underResource := policy.RelatedUnderResource(q.Resource.Type(), typ, x.extension[typ])
	switch {
	case underResource:
		scope = resID
	default:
		rid, err := arm.ParseResourceID(q.Resource.ID())
		if err != nil || rid.SubscriptionID == "" {
			return nil, nil
		}
		sub := "/subscriptions/" + strings.ToLower(rid.SubscriptionID)
		rg := rid.ResourceGroup
		if q.ResourceGroupName != "" {
			rg = q.ResourceGroupName
		}
		switch {
		case strings.EqualFold(q.ExistenceScope, "subscription"):
			scope = sub
		case rg != "":
			scope = sub + "/resourcegroups/" + strings.ToLower(rg)
		default:
			scope = sub
		}
	}
	var out []map[string]any
	for _, c := range cands {
		if c.id == resID || !arm.IsScopeAncestor(scope, c.id) {
			continue
		}
		if underResource && !policy.DirectlyUnder(resID, c.id) {
			continue
		}
		if q.Name != "" && !nameMatches(q.Name, c.name, c.id) {
			continue
		}
		doc, err := decodeObject(c.raw)
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}

// nameMatches compares details.name with a related resource's name.
func nameMatches(want, name, id string) bool {
	if strings.EqualFold(want, name) {
		return true
	}
	full := fullName(id)
	ws, fs := strings.Split(want, "/"), strings.Split(full, "/")
	if len(ws) != len(fs) {
		ns := strings.Split(name, "/")
		if len(ws) != len(ns) {
			return false
		}
		fs = ns
	}
	for i := range ws {
		if ws[i] != "?" && !strings.EqualFold(ws[i], fs[i]) {
			return false
		}
	}
	return true
}

// fullName is the resource's names after its last provider segment.
func fullName(id string) string {
	i := strings.LastIndex(id, "/providers/")
	if i < 0 {
		return id[strings.LastIndexByte(id, '/')+1:]
	}
	parts := strings.Split(strings.Trim(id[i+len("/providers/"):], "/"), "/")
	var names []string
	for j := 2; j < len(parts); j += 2 {
		names = append(names, parts[j])
	}
	return strings.Join(names, "/")
}
