package scan

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/steward-gov/steward/internal/policy"
)

// Catalog holds the definitions and initiatives a scan can assign or
// resolve set members from, indexed by ID, name and file name.
type Catalog struct {
	// Definitions and Sets are the documents found under the paths given
	// to be assigned, in file name order.
	Definitions []*policy.Definition
	Sets        []*policy.SetDefinition
	// Problems are the files that could not be read or parsed.
	Problems []Problem
	defs     map[string]*policy.Definition
	sets     map[string]*policy.SetDefinition
}

// Problem is a policy document, assignment or definition the scan could
// not use, and why.
type Problem struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
	// Code is Azure's error code for the problem when it has one (such
	// as InvalidPolicyAlias).
	Code string `json:"code,omitempty"`
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{defs: map[string]*policy.Definition{}, sets: map[string]*policy.SetDefinition{}}
}

// Load adds the definitions and initiatives in paths (files or folders,
// searched recursively for .json files). With assign false they only
// resolve set members and assignments. Assignments and exemptions found
// are ignored.
func (c *Catalog) Load(paths []string, assign bool) error {
	for _, p := range paths {
		files, err := jsonFiles(p)
		if err != nil {
			return err
		}
		for _, f := range files {
			c.loadFile(f, assign)
		}
	}
	return nil
}

func jsonFiles(root string) ([]string, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{root}, nil
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (c *Catalog) loadFile(path string, assign bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		c.Problems = append(c.Problems, Problem{Source: path, Reason: err.Error()})
		return
	}
	c.loadData(path, data, assign)
}

// LoadFS adds the definitions and initiatives of the .json files of
// fsys (such as the embedded baseline), as Load does for folders.
func (c *Catalog) LoadFS(fsys fs.FS, assign bool) error {
	var paths []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		c.loadData(p, data, assign)
	}
	return nil
}

func (c *Catalog) loadData(path string, data []byte, assign bool) {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	switch policy.DetectKind(data) {
	case policy.KindSet:
		s, err := policy.ParseSetDefinition(data)
		if c.problem(path, err) {
			return
		}
		s.ID, s.Name = identity(s.ID, s.Name, base, "policySetDefinitions")
		if addTo(c.sets, s, s.ID, s.Name, base) && assign {
			c.Sets = append(c.Sets, s)
		}
	case policy.KindDefinition:
		d, err := policy.ParseDefinition(data)
		if c.problem(path, err) {
			return
		}
		d.ID, d.Name = identity(d.ID, d.Name, base, "policyDefinitions")
		if addTo(c.defs, d, d.ID, d.Name, base) && assign {
			c.Definitions = append(c.Definitions, d)
		}
	}
}

// problem records a file that failed to parse; it reports whether err
// was one.
func (c *Catalog) problem(path string, err error) bool {
	if err != nil {
		c.Problems = append(c.Problems, Problem{Source: path, Reason: err.Error()})
	}
	return err != nil
}

// identity fills in a document's missing name (its file name) and ID
// (a tenant-level ID of the given kind).
func identity(id, name, base, kind string) (string, string) {
	if name == "" {
		name = base
	}
	if id == "" {
		id = "/providers/Microsoft.Authorization/" + kind + "/" + name
	}
	return id, name
}

// addTo indexes v under its keys (lower case; earlier documents keep a
// key); false when its ID (the first key) is already known.
func addTo[T any](index map[string]T, v T, keys ...string) bool {
	if _, dup := index[strings.ToLower(keys[0])]; dup {
		return false
	}
	for _, k := range keys {
		if _, taken := index[strings.ToLower(k)]; !taken {
			index[strings.ToLower(k)] = v
		}
	}
	return true
}

// Definition resolves a definition by ID, name or file name; an ID's last
// segment is tried too, so built-in IDs resolve against the corpus files.
func (c *Catalog) Definition(id string) (*policy.Definition, error) {
	if d, ok := c.defs[strings.ToLower(id)]; ok {
		return d, nil
	}
	if d, ok := c.defs[strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("policy definition %s not found in the --policy or --definitions paths", id)
}

// Set resolves an initiative like Definition does.
func (c *Catalog) Set(id string) (*policy.SetDefinition, error) {
	if s, ok := c.sets[strings.ToLower(id)]; ok {
		return s, nil
	}
	if s, ok := c.sets[strings.ToLower(id[strings.LastIndexByte(id, '/')+1:])]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("policy set definition %s not found in the --policy or --definitions paths", id)
}

// Resolvers returns the catalog as the engine's resolvers.
func (c *Catalog) Resolvers() policy.Resolvers {
	return policy.Resolvers{Definition: c.Definition, Set: c.Set}
}
