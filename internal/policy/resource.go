package policy

import (
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// Resource is a resource document prepared for evaluation: the fields
// every rule reads (type, name, kind, location) are extracted once, so
// evaluating many definitions against one resource does not repeat the
// work. A Resource is read-only and safe for concurrent use.
type Resource struct {
	doc      map[string]any
	typ      string
	typLower string
	name     string
	kind     string
	id       string
	location string // as written
	locNorm  string // lower case, spaces removed
	apiVer   string
	hasLoc   bool
	hasType  bool
	// The document's own values, returned as they are so reading a
	// built-in field does not box a string per evaluation.
	typV, locV any
}

// NewResource prepares a resource document (an ARM resource as JSON
// decoded into the value model; see Normalize). A nil document is an
// empty resource.
func NewResource(doc map[string]any) *Resource {
	if doc == nil {
		doc = map[string]any{}
	}
	r := &Resource{doc: doc}
	// the six top-level keys, found in one pass over the document when
	// any is not spelled as written (armexpr.Lookup would walk the map
	// once per missing key: exports often have no kind or apiVersion)
	keys := [...]string{"type", "name", "kind", "id", "apiVersion", "location"}
	var vals [len(keys)]any
	var found [len(keys)]bool
	missing := 0
	for i, k := range keys {
		if vals[i], found[i] = doc[k]; !found[i] {
			missing++
		}
	}
	if missing > 0 {
		for k, v := range doc {
			for i, key := range keys {
				if !found[i] && strings.EqualFold(k, key) {
					vals[i], found[i] = v, true
					missing--
					break
				}
			}
			if missing == 0 {
				break
			}
		}
	}
	if r.hasType = found[0]; r.hasType {
		r.typ, _ = vals[0].(string)
		r.typV = vals[0]
		r.typLower = strings.ToLower(r.typ)
	}
	r.name, _ = vals[1].(string)
	r.kind, _ = vals[2].(string)
	r.id, _ = vals[3].(string)
	r.apiVer, _ = vals[4].(string)
	if r.hasLoc = found[5]; r.hasLoc {
		r.locV = vals[5]
		r.location, _ = vals[5].(string)
		r.locNorm = normalizeLocation(r.location)
	}
	return r
}

// ParseResource decodes a JSON resource document.
func ParseResource(data []byte) (*Resource, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &ParseError{Path: "$", Message: "a resource must be a JSON object, got " + armexpr.TypeName(v)}
	}
	return NewResource(m), nil
}

// Document returns the resource document.
func (r *Resource) Document() map[string]any { return r.doc }

// Type returns the resource type, e.g. Microsoft.Storage/storageAccounts.
func (r *Resource) Type() string { return r.typ }

// LowerType returns the resource type in lower case.
func (r *Resource) LowerType() string { return r.typLower }

// HasLocation reports whether the document has a location property
// (whatever its value).
func (r *Resource) HasLocation() bool { return r.hasLoc }

// Name returns the resource name.
func (r *Resource) Name() string { return r.name }

// ID returns the resource ID, or "" when the document has none.
func (r *Resource) ID() string { return r.id }

// Location returns the location as written, or "".
func (r *Resource) Location() string { return r.location }

// normalizeLocation folds a location for comparison: "East US 2" and
// "eastus2" are the same location.
func normalizeLocation(s string) string {
	needs := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || (c >= 'A' && c <= 'Z') {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	return strings.ToLower(strings.ReplaceAll(s, " ", ""))
}

// locEqual compares a location as written with a normalised one,
// ignoring spaces and ASCII case, without allocating.
func locEqual(a, norm string) bool {
	j := 0
	for i := 0; i < len(a); i++ {
		c := a[i]
		if c == ' ' {
			continue
		}
		if c >= 0x80 {
			return normalizeLocation(a) == norm
		}
		if j >= len(norm) || lowerASCII(c) != norm[j] {
			return false
		}
		j++
	}
	return j == len(norm)
}

// fullName is the name with parent names prepended, derived from the
// resource ID when there is one (".../servers/a/databases/b" gives "a/b").
func (r *Resource) fullName() string {
	if r.id == "" {
		return r.name
	}
	id := r.id
	i := strings.LastIndex(strings.ToLower(id), "/providers/")
	if i < 0 {
		return r.name
	}
	parts := strings.Split(strings.Trim(id[i+len("/providers/"):], "/"), "/")
	// namespace, then type/name pairs
	var names []string
	for j := 2; j < len(parts); j += 2 {
		names = append(names, parts[j])
	}
	if len(names) == 0 {
		return r.name
	}
	return strings.Join(names, "/")
}
