package policy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
	"github.com/steward-gov/steward/internal/armexpr"
)

// AliasTable maps policy aliases ("Microsoft.Storage/storageAccounts/
// supportsHttpsTrafficOnly") to the JSON paths they stand for, possibly
// different per api-version, and records what is known of resource types
// (their capabilities, used for the Indexed mode). A table is read-only
// once loaded and safe for concurrent use.
type AliasTable struct {
	aliases map[string]*Alias    // by lower-case name
	types   map[string]*TypeInfo // by lower-case resource type
	// metadata is set when the source records which aliases are
	// modifiable (the provider JSON does, the CSV does not).
	metadata bool
	// base is the table this one adds to or overrides (see Layer); a
	// lookup that misses here continues there.
	base *AliasTable
	// lazy, when set, holds the aliases instead of the maps, decoded a
	// resource type at a time (see aliases_lazy.go).
	lazy *lazyAliases
}

// Alias is one policy alias.
type Alias struct {
	// Name is the alias as written in policy rules.
	Name string
	// ResourceType is the type the alias belongs to, e.g.
	// Microsoft.Storage/storageAccounts.
	ResourceType string
	// DefaultPath is the JSON path used when no versioned path applies.
	DefaultPath string
	// Paths are versioned paths: each applies to the api-versions listed.
	Paths []AliasPath
	// Modifiable reports whether the modify effect may change the alias
	// (defaultMetadata.attributes contains "Modifiable").
	Modifiable bool
}

// AliasPath is the path of an alias for a set of api-versions.
type AliasPath struct {
	Path        string
	APIVersions []string
	Modifiable  bool
}

// TypeInfo is what an alias table knows about a resource type.
type TypeInfo struct {
	Type             string
	SupportsTags     bool
	SupportsLocation bool
	// CapabilitiesKnown is false when the source did not list capabilities.
	CapabilitiesKnown bool
	// LatestAPIVersion is the newest api-version the source lists for the
	// type (its apiVersions, else those of its alias paths), a stable one
	// before any preview; "" when the source lists none (the CSV).
	LatestAPIVersion string
}

// noteAPIVersion records v as an api-version of the type, keeping the
// latest: stable versions win over previews, as Azure's "latest API
// version" of compliance evaluation is a released one.
func (ti *TypeInfo) noteAPIVersion(v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	cur := ti.LatestAPIVersion
	switch curPre, vPre := arm.IsPreviewAPIVersion(cur), arm.IsPreviewAPIVersion(v); {
	case cur == "":
	case curPre != vPre:
		if vPre {
			return
		}
	case arm.CompareAPIVersions(v, cur) <= 0:
		return
	}
	ti.LatestAPIVersion = v
}

// LatestAPIVersion returns the latest api-version the table knows for a
// resource type, or "".
func (t *AliasTable) LatestAPIVersion(resourceType string) string {
	lt := strings.ToLower(resourceType)
	for l := t; l != nil; l = l.base {
		if ti, ok := l.typeMap(lt)[lt]; ok && ti.LatestAPIVersion != "" {
			return ti.LatestAPIVersion
		}
	}
	return ""
}

// NewAliasTable returns an empty table.
func NewAliasTable() *AliasTable {
	return &AliasTable{aliases: map[string]*Alias{}, types: map[string]*TypeInfo{}}
}

// Layer returns an empty table over base: aliases added to it (Add,
// Merge) override base's, and lookups that miss it continue in base,
// which is never modified. It lets a shared table (the built-in one) be
// extended without copying it.
func Layer(base *AliasTable) *AliasTable {
	t := NewAliasTable()
	t.base = base
	return t
}

// Len returns the number of aliases in the table (with its base; an alias
// overridden in a layer counts once per layer).
func (t *AliasTable) Len() int {
	if t == nil {
		return 0
	}
	n := len(t.aliases)
	if t.lazy != nil {
		n = t.lazy.count
	}
	return n + t.base.Len()
}

// HasMetadata reports whether the table knows which aliases are
// modifiable.
func (t *AliasTable) HasMetadata() bool { return t != nil && (t.metadata || t.base.HasMetadata()) }

// Lookup returns the alias with the given name, compared case-insensitively.
func (t *AliasTable) Lookup(name string) (*Alias, bool) {
	return t.lookupLower(strings.ToLower(name))
}

func (t *AliasTable) lookupLower(ln string) (*Alias, bool) {
	for ; t != nil; t = t.base {
		if a, ok := t.aliasMap(ln)[ln]; ok {
			return a, true
		}
	}
	return nil, false
}

// Type returns what the table knows about a resource type.
func (t *AliasTable) Type(resourceType string) (*TypeInfo, bool) {
	return t.typeLower(strings.ToLower(resourceType))
}

// typeLower is Type for a type already in lower case. A layer's entry
// wins unless only its base knows the type's capabilities.
func (t *AliasTable) typeLower(lt string) (*TypeInfo, bool) {
	var found *TypeInfo
	for ; t != nil; t = t.base {
		ti, ok := t.typeMap(lt)[lt]
		if !ok {
			continue
		}
		if ti.CapabilitiesKnown {
			return ti, true
		}
		if found == nil {
			found = ti
		}
	}
	return found, found != nil
}

// All returns every alias of the table and its bases, a layer's alias
// replacing a base's of the same name, sorted by name.
func (t *AliasTable) All() []*Alias {
	seen := map[string]*Alias{}
	for l := t; l != nil; l = l.base {
		for k, a := range l.plain().aliases {
			if _, ok := seen[k]; !ok {
				seen[k] = a
			}
		}
	}
	out := make([]*Alias, 0, len(seen))
	for _, a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// Add adds or replaces an alias.
func (t *AliasTable) Add(a *Alias) {
	if t.lazy != nil {
		panic("policy: Add on a shared alias table; extend it with Layer")
	}
	if a.ResourceType == "" {
		a.ResourceType = aliasResourceType(a.Name)
	}
	t.aliases[strings.ToLower(a.Name)] = a
	if _, ok := t.types[strings.ToLower(a.ResourceType)]; !ok {
		t.types[strings.ToLower(a.ResourceType)] = &TypeInfo{Type: a.ResourceType}
	}
}

// Merge adds every alias and type of other (with its bases) to t; other
// wins on conflicts.
func (t *AliasTable) Merge(other *AliasTable) {
	if other == nil {
		return
	}
	if t.lazy != nil {
		panic("policy: Merge into a shared alias table; extend it with Layer")
	}
	t.Merge(other.base)
	other = other.plain()
	for k, a := range other.aliases {
		t.aliases[k] = a
	}
	t.metadata = t.metadata || other.metadata
	for k, ti := range other.types {
		if old, ok := t.types[k]; ok && old.CapabilitiesKnown && !ti.CapabilitiesKnown {
			continue
		}
		t.types[k] = ti
	}
}

// PathFor returns the path of the alias for an api-version: the versioned
// path whose list holds apiVersion, else the default path.
func (a *Alias) PathFor(apiVersion string) (path string, modifiable bool) {
	if apiVersion != "" {
		for _, p := range a.Paths {
			for _, v := range p.APIVersions {
				if arm.CompareAPIVersions(v, apiVersion) == 0 {
					return p.Path, p.Modifiable
				}
			}
		}
	}
	return a.DefaultPath, a.Modifiable
}

// aliasResourceType is the resource type an alias belongs to: everything
// before its last slash.
func aliasResourceType(name string) string {
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		return name[:i]
	}
	return ""
}

// LoadAliasesCSV reads an alias table in the CSV form "alias,path" (one
// alias and its default path a line, an optional header line), plain or
// gzip-compressed.
func LoadAliasesCSV(r io.Reader) (*AliasTable, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("alias CSV: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(io.LimitReader(zr, 1<<30))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := NewAliasTable()
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("alias CSV line %d: %w", line, err)
		}
		if len(rec) < 2 {
			return nil, fmt.Errorf("alias CSV line %d: want \"alias,path\", got %d fields", line, len(rec))
		}
		name, path := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if line == 1 && strings.EqualFold(name, "alias") {
			continue
		}
		if name == "" || !strings.Contains(name, "/") {
			return nil, fmt.Errorf("alias CSV line %d: %q is not an alias name", line, name)
		}
		t.Add(&Alias{Name: name, DefaultPath: path})
	}
	return t, nil
}

// LoadAliasesProviderJSON reads the JSON that `az provider list --expand
// resourceTypes/aliases` prints (an array of providers), the REST form
// ({"value": [...]}) or a single provider object. defaultPath may be a
// string or an object {path, apiVersions} as the CLI emits it.
func LoadAliasesProviderJSON(data []byte) (*AliasTable, error) {
	doc, err := decodeJSON(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if err != nil {
		return nil, fmt.Errorf("alias JSON: %w", err)
	}
	var providers []any
	switch d := doc.(type) {
	case []any:
		providers = d
	case map[string]any:
		if v, ok := armexpr.Lookup(d, "value"); ok {
			providers, _ = v.([]any)
		} else {
			providers = []any{d}
		}
	default:
		return nil, fmt.Errorf("alias JSON: want an array of providers, got %s", armexpr.TypeName(doc))
	}
	t := NewAliasTable()
	t.metadata = true
	for i, p := range providers {
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("alias JSON: $[%d] is not an object", i)
		}
		ns := stringAt(pm, "namespace")
		rts, _ := armexpr.Lookup(pm, "resourceTypes")
		rtl, _ := rts.([]any)
		for j, rt := range rtl {
			if err := t.addResourceType(ns, rt); err != nil {
				return nil, fmt.Errorf("alias JSON: $[%d].resourceTypes[%d]: %w", i, j, err)
			}
		}
	}
	return t, nil
}

func (t *AliasTable) addResourceType(ns string, rt any) error {
	m, ok := rt.(map[string]any)
	if !ok {
		return errors.New("not an object")
	}
	typ := ns + "/" + stringAt(m, "resourceType")
	ti := &TypeInfo{Type: typ}
	if caps, ok := armexpr.Lookup(m, "capabilities"); ok {
		s, _ := caps.(string)
		ti.CapabilitiesKnown = true
		for _, c := range strings.Split(s, ",") {
			switch strings.ToLower(strings.TrimSpace(c)) {
			case "supportstags":
				ti.SupportsTags = true
			case "supportslocation":
				ti.SupportsLocation = true
			}
		}
	}
	if vs, ok := armexpr.Lookup(m, "apiVersions"); ok {
		vl, _ := vs.([]any)
		for _, v := range vl {
			if s, ok := v.(string); ok {
				ti.noteAPIVersion(s)
			}
		}
	}
	t.types[strings.ToLower(typ)] = ti
	al, _ := armexpr.Lookup(m, "aliases")
	list, _ := al.([]any)
	for k, e := range list {
		am, ok := e.(map[string]any)
		if !ok {
			return fmt.Errorf("aliases[%d] is not an object", k)
		}
		a := &Alias{Name: stringAt(am, "name"), ResourceType: typ}
		if a.Name == "" {
			return fmt.Errorf("aliases[%d] has no name", k)
		}
		switch dp, _ := armexpr.Lookup(am, "defaultPath"); d := dp.(type) {
		case string:
			a.DefaultPath = d
		case map[string]any:
			a.DefaultPath = stringAt(d, "path")
		}
		a.Modifiable = modifiable(am, "defaultMetadata")
		ps, _ := armexpr.Lookup(am, "paths")
		pl, _ := ps.([]any)
		for _, p := range pl {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			ap := AliasPath{Path: stringAt(pm, "path"), Modifiable: modifiable(pm, "metadata")}
			vs, _ := armexpr.Lookup(pm, "apiVersions")
			vl, _ := vs.([]any)
			for _, v := range vl {
				if s, ok := v.(string); ok {
					ap.APIVersions = append(ap.APIVersions, s)
					ti.noteAPIVersion(s)
				}
			}
			a.Paths = append(a.Paths, ap)
		}
		if a.DefaultPath == "" && len(a.Paths) > 0 {
			a.DefaultPath = a.Paths[len(a.Paths)-1].Path
		}
		t.aliases[strings.ToLower(a.Name)] = a
	}
	return nil
}

// modifiable reports whether obj[key].attributes names "Modifiable".
func modifiable(obj map[string]any, key string) bool {
	md, ok := armexpr.Lookup(obj, key)
	if !ok {
		return false
	}
	mm, _ := md.(map[string]any)
	attrs := stringAt(mm, "attributes")
	for _, a := range strings.Split(attrs, ",") {
		if strings.EqualFold(strings.TrimSpace(a), "Modifiable") {
			return true
		}
	}
	return false
}

// LoadAliases reads an alias table in either format, plain or
// gzip-compressed, chosen by content: JSON when the first non-space byte
// is '[' or '{', CSV otherwise.
func LoadAliases(data []byte) (*AliasTable, error) {
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("alias table: %w", err)
		}
		defer zr.Close()
		if data, err = io.ReadAll(io.LimitReader(zr, 1<<30)); err != nil {
			return nil, fmt.Errorf("alias table: %w", err)
		}
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		return LoadAliasesProviderJSON(trimmed)
	}
	return LoadAliasesCSV(bytes.NewReader(data))
}
