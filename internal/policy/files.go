package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// DefaultAliasDir is where `steward policy aliases import` stores alias
// tables: $XDG_CONFIG_HOME/steward/aliases (or the platform's user
// configuration directory).
func DefaultAliasDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "steward", "aliases"), nil
}

// ImportAliases checks that src is an alias table (CSV, gzip CSV or
// provider JSON) and copies it into dir, returning the stored path and
// the number of aliases. The file is written atomically.
func ImportAliases(src, dir string) (string, int, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", 0, err
	}
	t, err := LoadAliases(data)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", src, err)
	}
	if t.Len() == 0 {
		return "", 0, fmt.Errorf("%s: no aliases found", src)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	dst := filepath.Join(dir, filepath.Base(src))
	tmp, err := os.CreateTemp(dir, ".import-*")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", 0, err
	}
	if err := tmp.Close(); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, err
	}
	return dst, t.Len(), nil
}

// LoadAliasDir loads and merges every alias table in dir, in name order
// (later files win). A missing directory is an empty table.
func LoadAliasDir(dir string) (*AliasTable, error) {
	t := NewAliasTable()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		one, err := LoadAliases(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, n), err)
		}
		t.Merge(one)
	}
	return t, nil
}

// ParseParameterValues reads parameter values for an evaluation: a JSON
// object of values ({"p": v}), of ARM-style values ({"p": {"value": v}}),
// or an ARM parameters file ({"parameters": {...}}).
func ParseParameterValues(data []byte) (map[string]any, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parameters must be a JSON object, got %s", armexpr.TypeName(doc))
	}
	if inner, ok := armexpr.Lookup(m, "parameters"); ok {
		if im, ok := inner.(map[string]any); ok {
			if _, hasSchema := armexpr.Lookup(m, "$schema"); hasSchema || len(m) <= 2 {
				m = im
			}
		}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = unwrapParameterValue(v)
	}
	return out, nil
}

// DocumentKind is what a policy JSON document is.
type DocumentKind int

// The kinds of policy documents.
const (
	KindDefinition DocumentKind = iota
	KindSet
	KindAssignment
	KindExemption
)

// String names the kind.
func (k DocumentKind) String() string {
	return [...]string{"definition", "set definition", "assignment", "exemption"}[k]
}

// DetectKind tells a definition, set definition, assignment and exemption
// apart by their properties.
func DetectKind(data []byte) DocumentKind {
	doc, err := decodeJSON(data)
	if err != nil {
		return KindDefinition
	}
	m, _ := doc.(map[string]any)
	if p, ok := armexpr.Lookup(m, "properties"); ok {
		if pm, ok := p.(map[string]any); ok {
			m = pm
		}
	}
	switch {
	case has(m, "policyDefinitions"):
		return KindSet
	case has(m, "policyAssignmentId") && has(m, "exemptionCategory"):
		return KindExemption
	case has(m, "policyDefinitionId") && !has(m, "policyRule"):
		return KindAssignment
	}
	return KindDefinition
}

func has(m map[string]any, k string) bool { _, ok := armexpr.Lookup(m, k); return ok }

// Lint parses and compiles a policy document of any kind, returning the
// errors found (each a *ParseError or *CompileError with a JSON path).
// With an alias table, alias fields the table does not know are errors
// (InvalidPolicyAlias, as Azure rejects them) unless
// opts.AllowUnknownAliases. Set members are not resolved.
func Lint(data []byte, opts CompileOptions) []error {
	errs, _ := LintWithWarnings(data, opts)
	return errs
}

// LintWithWarnings is Lint that also returns the warnings of a definition:
// what it lacks that Azure accepts anyway (Policy.Warnings), each a
// *CompileError with a JSON path.
func LintWithWarnings(data []byte, opts CompileOptions) (errs, warnings []error) {
	var err error
	switch DetectKind(data) {
	case KindSet:
		_, err = ParseSetDefinition(data)
	case KindAssignment:
		_, err = ParseAssignment(data)
	case KindExemption:
		_, err = ParseExemption(data)
	default:
		var p *Policy
		p, err = ParseAndCompile(data, CompileOptions{Aliases: opts.Aliases, AllowUnknownAliases: opts.AllowUnknownAliases})
		if p != nil {
			for _, w := range p.Warnings() {
				warnings = append(warnings, w)
			}
		}
	}
	if err != nil {
		return []error{err}, warnings
	}
	return nil, warnings
}

// DirResolver indexes the definitions in directories (recursively) by
// name and ID, for resolving set members.
func DirResolver(dirs ...string) (DefinitionResolver, error) {
	index := map[string]*Definition{}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if DetectKind(data) != KindDefinition {
				return nil
			}
			def, err := ParseDefinition(data)
			if err != nil || def.Rule == nil {
				return nil
			}
			base := strings.TrimSuffix(filepath.Base(path), ".json")
			for _, k := range []string{def.ID, def.Name, base} {
				if k != "" {
					index[strings.ToLower(k)] = def
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return func(id string) (*Definition, error) {
		if d, ok := index[strings.ToLower(id)]; ok {
			return d, nil
		}
		if d, ok := index[strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("definition %s not found", id)
	}, nil
}
