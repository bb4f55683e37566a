package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// fieldKind distinguishes the built-in fields that are read from the
// prepared Resource from property paths.
type fieldKind uint8

const (
	fieldPath fieldKind = iota
	fieldType
	fieldName
	fieldFullName
	fieldKindF
	fieldLocation
	fieldID
	fieldAPIVersion
)

var builtinFields = map[string]fieldKind{
	"type": fieldType, "name": fieldName, "fullname": fieldFullName,
	"kind": fieldKindF, "location": fieldLocation, "id": fieldID, "apiversion": fieldAPIVersion,
}

// fieldRef is a compiled field: a built-in field or a property path,
// with the versioned paths of an alias when it has them.
type fieldRef struct {
	text      string
	kind      fieldKind
	segs      []seg // default path
	pathText  string
	variants  []pathVariant
	wildcard  bool
	unknown   bool   // an alias-shaped name the loaded table does not know
	aliasType string // the resource type an alias from a table belongs to
	nameType  string // the type the alias name spells (child aliases are listed under their parent)
	alias     *Alias
}

// pathVariant is an alias path that applies to some api-versions.
type pathVariant struct {
	versions []string
	segs     []seg
	pathText string
}

// compileField resolves a field name: built-in fields, tags in their
// forms (tags.x, tags['x'], tags[x]), aliases from the table (falling back
// to the documented default "Namespace/type/a.b" -> "properties.a.b"),
// and plain property paths.
func compileField(name string, aliases *AliasTable) (*fieldRef, error) {
	f := &fieldRef{text: name}
	lower := strings.ToLower(name)
	if k, ok := builtinFields[lower]; ok {
		f.kind = k
		f.segs = []seg{{key: lower, index: -1}}
		f.pathText = lower
		return f, nil
	}
	path := name
	switch {
	case strings.HasPrefix(lower, "tags.") && len(name) > 5:
		f.segs = []seg{{key: "tags", index: -1}, {key: name[5:], index: -1}}
		f.pathText = "tags." + name[5:]
		return f, nil
	case strings.HasPrefix(lower, "tags["):
		var (
			end int
			sg  seg
			err error
		)
		if strings.HasPrefix(name[4:], "[]") {
			// An empty tag name, as concat('tags[', parameters('t'), ']')
			// builds from an empty parameter: the tag named "" (which
			// ARM never stores), like tags[''], not a malformed path.
			end, sg = 6, seg{key: "", index: -1}
		} else if end, _, sg, err = parseBracket(name, 4); err != nil {
			return nil, err
		}
		if end != len(name) {
			rest, err := parsePath(strings.TrimPrefix(name[end:], "."))
			if err != nil {
				return nil, err
			}
			f.segs = append([]seg{{key: "tags", index: -1}, sg}, rest...)
		} else {
			f.segs = []seg{{key: "tags", index: -1}, sg}
		}
		f.pathText = name
		f.wildcard = hasWildcard(f.segs)
		return f, nil
	case strings.Contains(name, "/"):
		if a, ok := aliases.Lookup(name); ok {
			f.alias = a
			f.aliasType = a.ResourceType
			f.nameType = aliasResourceType(a.Name)
			path = a.DefaultPath
			for _, p := range a.Paths {
				segs, err := parsePath(p.Path)
				if err != nil {
					return nil, fmt.Errorf("alias %s: %w", a.Name, err)
				}
				f.variants = append(f.variants, pathVariant{versions: p.APIVersions, segs: segs, pathText: p.Path})
				f.wildcard = f.wildcard || hasWildcard(segs)
			}
		} else {
			f.unknown = aliases.Len() > 0
			i := strings.LastIndexByte(name, '/')
			path = "properties." + name[i+1:]
			if i+1 == len(name) {
				return nil, fmt.Errorf("field %q is not an alias", name)
			}
		}
	}
	segs, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	f.segs, f.pathText = segs, path
	f.wildcard = f.wildcard || hasWildcard(segs)
	return f, nil
}

// pathFor returns the segments of the field for an api-version.
func (f *fieldRef) pathFor(apiVersion string) ([]seg, string) {
	if apiVersion != "" {
		for i := range f.variants {
			for _, v := range f.variants[i].versions {
				if strings.EqualFold(v, apiVersion) {
					return f.variants[i].segs, f.variants[i].pathText
				}
			}
		}
	}
	return f.segs, f.pathText
}

// base returns the document a path is resolved against and the rest of
// the path: inside a count, a path under the counted [*] alias is
// resolved against the current member.
func (st *state) base(segs []seg) (any, bool, []seg) {
	for i := len(st.scopes) - 1; i >= 0; i-- {
		sc := &st.scopes[i]
		if sc.segs != nil && segsPrefix(sc.segs, segs) {
			return sc.value, sc.ok, segs[len(sc.segs):]
		}
	}
	return st.res.doc, true, segs
}

// typeGated reports whether an alias from a table belongs to another
// resource type, in which case it selects nothing.
func (st *state) typeGated(f *fieldRef) bool {
	return f.aliasType != "" && st.res.hasType && !strings.EqualFold(f.aliasType, st.res.typ) &&
		!strings.EqualFold(f.nameType, st.res.typ)
}

// fieldValue resolves a field without [*].
func (st *state) fieldValue(f *fieldRef) (any, bool) {
	r := st.res
	switch f.kind {
	case fieldType:
		return r.typV, r.hasType
	case fieldName:
		return armexpr.Lookup(r.doc, "name")
	case fieldFullName:
		if v, ok := armexpr.Lookup(r.doc, "fullName"); ok {
			return v, true
		}
		if _, ok := armexpr.Lookup(r.doc, "name"); !ok {
			return nil, false
		}
		return r.fullName(), true
	case fieldAPIVersion:
		if st.apiVersion == "" {
			return nil, false
		}
		return st.apiVersion, true
	case fieldKindF:
		return armexpr.Lookup(r.doc, "kind")
	case fieldLocation:
		return r.locV, r.hasLoc
	case fieldID:
		return armexpr.Lookup(r.doc, "id")
	}
	if st.typeGated(f) {
		return nil, false
	}
	segs, _ := f.pathFor(st.apiVersion)
	v, ok, rest := st.base(segs)
	if !ok {
		return nil, false
	}
	return lookup(v, rest)
}

// fieldValues resolves a field with [*] into st.vals (appending) and
// returns the new slice; virtual selects the field-condition semantics of
// collect.
func (st *state) fieldValues(f *fieldRef, virtual bool) []value {
	if st.typeGated(f) {
		if virtual {
			return append(st.vals, value{})
		}
		return st.vals
	}
	segs, _ := f.pathFor(st.apiVersion)
	v, ok, rest := st.base(segs)
	return collect(v, ok, rest, virtual, st.vals)
}

// fieldFunc implements field(name) in expressions: the value of the field
// on the resource being evaluated (in existenceCondition, the resource of
// the if condition); a [*] field gives an array of the values that exist.
func (st *state) fieldFunc(name string) (any, bool, error) {
	f, err := st.pol.fieldByName(name)
	if err != nil {
		return nil, true, err
	}
	saved := st.res
	st.res = st.primary
	defer func() { st.res = saved }()
	if f.wildcard {
		start := len(st.vals)
		st.vals = st.fieldValues(f, false)
		out := make([]any, 0, len(st.vals)-start)
		for _, v := range st.vals[start:] {
			out = append(out, v.v)
		}
		st.vals = st.vals[:start]
		return out, true, nil
	}
	v, ok := st.fieldValue(f)
	if !ok {
		return "", true, nil
	}
	return v, true, nil
}

// currentFunc implements current(): the member being counted, by the
// value count's name or the field count's alias (optionally followed by
// a path into the member); with no argument, the innermost count's.
func (st *state) currentFunc(args []any) (any, bool, error) {
	if len(st.scopes) == 0 {
		return nil, true, fmt.Errorf("current() is only available inside count.where")
	}
	if len(args) == 0 {
		sc := st.scopes[len(st.scopes)-1]
		return sc.value, true, nil
	}
	name, ok := args[0].(string)
	if !ok || len(args) != 1 {
		return nil, true, fmt.Errorf("current takes one string argument")
	}
	for i := len(st.scopes) - 1; i >= 0; i-- {
		sc := &st.scopes[i]
		if sc.name != "" && strings.EqualFold(sc.name, name) {
			return sc.value, true, nil
		}
		if sc.field != "" && len(name) >= len(sc.field) && strings.EqualFold(name[:len(sc.field)], sc.field) {
			rest := strings.TrimPrefix(name[len(sc.field):], ".")
			if rest == "" {
				return sc.value, true, nil
			}
			segs, err := parsePath(rest)
			if err != nil {
				return nil, true, err
			}
			if hasWildcard(segs) {
				out := []any{}
				for _, v := range collect(sc.value, sc.ok, segs, false, nil) {
					out = append(out, v.v)
				}
				return out, true, nil
			}
			v, _ := lookup(sc.value, segs)
			return v, true, nil
		}
	}
	return nil, true, fmt.Errorf("current(%q) does not name an enclosing count", name)
}
