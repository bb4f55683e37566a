package cloud

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/steward-gov/steward/internal/arm"
)

// Tag limits as Azure documents them (tag-resources.md, "Limitations"):
// 50 tags a resource, names of 512 characters (128 for storage accounts,
// not enforced), values of 256, names without < > % & \ ? /.
const (
	maxTags        = 50
	maxTagName     = 512
	maxTagValue    = 256
	badTagNameRune = "<>%&\\?/"
)

// topLevelFields are the properties of a resource document a PUT body may
// set; id, name, type and systemData come from the server.
var topLevelFields = []string{"location", "tags", "properties", "kind", "sku", "identity", "managedBy",
	"plan", "zones", "extendedLocation"}

// newDocument builds the stored document of a resource from a PUT body.
func newDocument(id, name, typ string, body map[string]any) (map[string]any, error) {
	doc := map[string]any{"id": id, "name": name, "type": typ}
	for _, k := range topLevelFields {
		if v, ok := lookupFold(body, k); ok && v != nil {
			doc[k] = v
		}
	}
	if err := validateDocument(doc); err != nil {
		return nil, err
	}
	if loc, ok := doc["location"].(string); ok {
		doc["location"] = NormalizeLocation(loc)
	}
	if p, ok := doc["properties"].(map[string]any); ok {
		if _, has := p["provisioningState"]; !has {
			p["provisioningState"] = "Succeeded"
		}
	}
	return doc, nil
}

// lookupFold finds a key case-insensitively, as ARM's JSON binding does.
func lookupFold(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// validateDocument checks the shapes of the well-known properties.
func validateDocument(doc map[string]any) error {
	if v, ok := doc["location"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return invalidContent("location", "a string")
		}
		if err := validateLocation(s); err != nil {
			return err
		}
	}
	for _, k := range []string{"properties", "sku", "identity", "plan", "extendedLocation"} {
		if v, ok := doc[k]; ok {
			if _, isObj := v.(map[string]any); !isObj {
				return invalidContent(k, "an object")
			}
		}
	}
	for _, k := range []string{"kind", "managedBy"} {
		if v, ok := doc[k]; ok {
			if _, isStr := v.(string); !isStr {
				return invalidContent(k, "a string")
			}
		}
	}
	if v, ok := doc["zones"]; ok {
		if _, isArr := v.([]any); !isArr {
			return invalidContent("zones", "an array")
		}
	}
	if v, ok := doc["tags"]; ok {
		tags, err := validateTags(v)
		if err != nil {
			return err
		}
		doc["tags"] = tags
	}
	return nil
}

// maxLocation bounds a location string: Azure's region names and display
// names ("westus2", "West US 2", "(Europe) West Europe") are well under it.
const maxLocation = 64

// validateLocation accepts a region name or display name: letters,
// digits, spaces, hyphens, underscores, dots and parentheses, at most
// maxLocation characters. Anything else names no region.
func validateLocation(loc string) error {
	ok := len(loc) <= maxLocation
	for i := 0; ok && i < len(loc); i++ {
		c := loc[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(" -_.()", c) >= 0
	}
	if !ok {
		return arm.BadRequest("LocationNotAvailableForResourceType",
			"The provided location '%s' is not available: a location is a region name of at most %d letters, digits, spaces and hyphens.", truncate(loc, 64), maxLocation)
	}
	return nil
}

func invalidContent(field, want string) *arm.Error {
	return arm.BadRequest("InvalidRequestContent",
		"The request content was invalid and could not be deserialized: '%s' must be %s.", field, want)
}

// validateTags checks a tags object and returns it as map[string]any of
// strings.
func validateTags(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidContent("tags", "an object of strings")
	}
	if len(m) > maxTags {
		return nil, arm.BadRequest("InvalidTagCount", "The number of tags (%d) exceeds the limit of %d.", len(m), maxTags)
	}
	for k, val := range m {
		s, isStr := val.(string)
		if !isStr {
			return nil, invalidContent("tags", "an object of strings")
		}
		if k == "" || utf8.RuneCountInString(k) > maxTagName || strings.ContainsAny(k, badTagNameRune) {
			return nil, arm.BadRequest("InvalidTagNameCharacters",
				"The tag name '%s' is invalid: tag names are 1 to %d characters and may not contain '%s'.", truncate(k, 64), maxTagName, badTagNameRune)
		}
		if utf8.RuneCountInString(s) > maxTagValue {
			return nil, arm.BadRequest("InvalidTagValueLength", "The value of tag '%s' exceeds %d characters.", truncate(k, 64), maxTagValue)
		}
	}
	return m, nil
}

// NormalizeLocation folds a location display name ("West US") into its
// name ("westus"), as resource providers store it.
func NormalizeLocation(loc string) string {
	return strings.ToLower(strings.ReplaceAll(loc, " ", ""))
}

// mergePatch applies a JSON merge patch (RFC 7396) to target.
func mergePatch(target map[string]any, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(target, k)
			continue
		}
		if pm, ok := v.(map[string]any); ok {
			tm, _ := target[k].(map[string]any)
			target[k] = mergePatch(tm, pm)
			continue
		}
		target[k] = v
	}
	return target
}

// createdWithOK are the types whose PUT answers 200 even when it creates
// the resource, as their REST specs define no 201 (lower case).
var createdWithOK = map[string]bool{
	strings.ToLower(TypeDiagnosticSettings): true,
}

// putResponse answers a PUT: 201 with the document when it created the
// resource, 200 when it updated it (or for the types of createdWithOK).
func putResponse(r Resource, created bool) *Response {
	if created && !createdWithOK[strings.ToLower(r.Type)] {
		return documentResponse(http.StatusCreated, r)
	}
	return documentResponse(http.StatusOK, r)
}

// docList answers a list of stored documents with the page's nextLink.
func (c *Call) docList(rs []Resource, next string) *Response {
	out := List{Value: make([]any, 0, len(rs))}
	for _, r := range rs {
		out.Value = append(out.Value, r.Doc)
	}
	out.NextLink = c.NextLink(next)
	return &Response{Status: http.StatusOK, Body: out}
}

// documentResponse is a stored resource as a response body, with its etag.
func documentResponse(status int, r Resource) *Response {
	return &Response{Status: status, Body: r.Doc, ETag: r.ETag}
}

// notFound names the missing resource as ARM does.
func resourceNotFound(t Target) *arm.Error {
	rg := ""
	if t.Resource != nil {
		rg = t.Resource.ResourceGroup
	}
	return arm.NotFound("ResourceNotFound",
		"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		t.Type, t.Name, rg)
}
