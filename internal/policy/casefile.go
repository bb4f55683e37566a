package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// CaseFile is a YAML file of policy test cases in the format of the Azure
// Policy conformance suite (../shared/README.md and docs/policy.md): a
// cases list, with an optional file-wide aliases table and
// policy_definition.
type CaseFile struct {
	Path             string `yaml:"-"`
	Aliases          string `yaml:"aliases"`
	PolicyDefinition any    `yaml:"policy_definition"`
	// PolicyDefinitionFile names a definition JSON file, relative to the
	// case file (a Steward extension for testing one's own definitions).
	PolicyDefinitionFile string `yaml:"policy_definition_file"`
	Cases                []Case `yaml:"cases"`
}

// Case is one test case: a rule or definition, a resource, inputs, and
// one expectation.
type Case struct {
	Note             string `yaml:"note"`
	PolicyRule       any    `yaml:"policy_rule"`
	PolicyDefinition any    `yaml:"policy_definition"`
	// PolicyDefinitionFile names a definition JSON file relative to the
	// case file.
	PolicyDefinitionFile string         `yaml:"policy_definition_file"`
	Resource             any            `yaml:"resource"`
	Parameters           map[string]any `yaml:"parameters"`
	Aliases              string         `yaml:"aliases"`
	APIVersion           string         `yaml:"api_version"`
	RequestContext       map[string]any `yaml:"request_context"`
	Context              map[string]any `yaml:"context"`
	HostAwait            []HostAwait    `yaml:"host_await"`

	WantEffect       *string   `yaml:"want_effect"`
	WantUndefined    bool      `yaml:"want_undefined"`
	WantDetails      yaml.Node `yaml:"want_details"`
	WantParseError   bool      `yaml:"want_parse_error"`
	WantCompileError bool      `yaml:"want_compile_error"`
}

// HostAwait is a related-resource lookup answer for auditIfNotExists and
// deployIfNotExists: the resource found (null for none).
type HostAwait struct {
	Key      map[string]any `yaml:"key"`
	Response any            `yaml:"response"`
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	File, Note string
	Pass       bool
	// Want and Got describe the expectation and the outcome when the
	// case failed.
	Want, Got string
}

// maxCaseFileSize caps a YAML case file.
const maxCaseFileSize = 16 << 20

// LoadCaseFile reads a YAML case file.
func LoadCaseFile(path string) (*CaseFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxCaseFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxCaseFileSize)
	}
	var cf CaseFile
	if err := yaml.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cf.Path = path
	return &cf, nil
}

// The context a case sees when it sets none: the resource group and
// subscription the conformance suite assumes.
var (
	defaultResourceGroup = map[string]any{"name": "myResourceGroup", "location": "eastus",
		"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup"}
	defaultSubscription = map[string]any{"subscriptionId": "00000000-0000-0000-0000-000000000000",
		"id": "/subscriptions/00000000-0000-0000-0000-000000000000", "displayName": "Default subscription"}
)

// CaseRunner runs case files. Alias tables named by files are loaded
// once and shared.
type CaseRunner struct {
	// Aliases is used by cases that name no table of their own.
	Aliases *AliasTable
	// Now is the time utcNow() sees unless a case's context sets utcNow.
	Now    time.Time
	tables map[string]*AliasTable
}

// RunFile runs every case of a file.
func (r *CaseRunner) RunFile(ctx context.Context, cf *CaseFile) []CaseResult {
	out := make([]CaseResult, 0, len(cf.Cases))
	for i := range cf.Cases {
		res := r.RunCase(ctx, cf, &cf.Cases[i])
		out = append(out, res)
	}
	return out
}

// RunCase runs one case of a file and compares the outcome with the
// expectation.
func (r *CaseRunner) RunCase(ctx context.Context, cf *CaseFile, c *Case) (res CaseResult) {
	res = CaseResult{File: filepath.Base(cf.Path), Note: c.Note}
	want := c.expectation()
	res.Want = want
	got, details := r.outcome(ctx, cf, c)
	res.Got = got
	switch {
	case c.WantEffect != nil:
		res.Pass = strings.HasPrefix(got, "effect ") && strings.EqualFold(strings.TrimPrefix(got, "effect "), *c.WantEffect)
		if res.Pass && !c.WantDetails.IsZero() {
			var wd any
			if err := c.WantDetails.Decode(&wd); err != nil {
				res.Pass, res.Got = false, "bad want_details: "+err.Error()
				return res
			}
			wd = Normalize(wd)
			if !detailsMatch(wd, details) {
				res.Pass = false
				res.Want = want + " with details " + jsonText(wd)
				res.Got = got + " with details " + jsonText(details)
			}
		}
	default:
		res.Pass = strings.HasPrefix(got, want)
	}
	return res
}

func (c *Case) expectation() string {
	switch {
	case c.WantParseError:
		return "parse error"
	case c.WantCompileError:
		return "compile error"
	case c.WantEffect != nil:
		return "effect " + *c.WantEffect
	}
	// want_undefined: true, or an expectation left empty (want_effect: ~).
	return "undefined"
}

// outcome runs a case and describes what happened: "parse error: ...",
// "compile error: ...", "effect deny" or "undefined (Compliant)".
func (r *CaseRunner) outcome(ctx context.Context, cf *CaseFile, c *Case) (string, any) {
	src := c.PolicyRule
	if src == nil {
		src = c.PolicyDefinition
	}
	file := c.PolicyDefinitionFile
	if src == nil && file == "" {
		src, file = cf.PolicyDefinition, cf.PolicyDefinitionFile
	}
	var text []byte
	var err error
	if src == nil && file != "" {
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(cf.Path), file)
		}
		if text, err = os.ReadFile(file); err != nil {
			return "setup error: " + err.Error(), nil
		}
	} else {
		text, err = sourceText(src)
	}
	if err != nil {
		return "parse error: " + err.Error(), nil
	}
	def, err := ParseDefinition(text)
	if err != nil {
		return "parse error: " + err.Error(), nil
	}
	aliases, err := r.aliasesFor(cf, c)
	if err != nil {
		return "setup error: " + err.Error(), nil
	}
	pol, err := Compile(def, CompileOptions{Aliases: aliases})
	if err != nil {
		var pe *ParameterError
		if errors.As(err, &pe) {
			return "undefined (parameter error: " + err.Error() + ")", nil
		}
		return "compile error: " + err.Error(), nil
	}
	doc, _ := Normalize(c.Resource).(map[string]any)
	opts := r.evalOptions(c)
	result := pol.Evaluate(ctx, NewResource(doc), opts)
	if result.Effect == "" {
		if result.Err != nil {
			return "undefined (Error: " + result.Err.Error() + ")", nil
		}
		return "undefined (" + string(result.State) + ")", nil
	}
	return "effect " + result.Effect, result.Details
}

func (r *CaseRunner) evalOptions(c *Case) EvalOptions {
	opts := EvalOptions{APIVersion: c.APIVersion, Now: r.Now, ResourceGroup: defaultResourceGroup, Subscription: defaultSubscription}
	if c.Parameters != nil {
		opts.Parameters, _ = Normalize(c.Parameters).(map[string]any)
	}
	ctxm, _ := Normalize(c.Context).(map[string]any)
	if ctxm != nil {
		if s := stringAt(ctxm, "utcNow"); s != "" {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				opts.Now = t
			}
		}
		if m, ok := mapAt(ctxm, "resourceGroup"); ok {
			opts.ResourceGroup = m
		}
		if m, ok := mapAt(ctxm, "subscription"); ok {
			opts.Subscription = m
		}
		opts.Policy, _ = mapAt(ctxm, "policy")
		opts.RequestContext, _ = mapAt(ctxm, "requestContext")
	}
	if c.RequestContext != nil {
		opts.RequestContext, _ = Normalize(c.RequestContext).(map[string]any)
	}
	if len(c.HostAwait) > 0 {
		var related []map[string]any
		for _, h := range c.HostAwait {
			switch v := Normalize(h.Response).(type) {
			case map[string]any:
				related = append(related, v)
			case []any:
				for _, e := range v {
					if m, ok := e.(map[string]any); ok {
						related = append(related, m)
					}
				}
			}
		}
		opts.Related = func(context.Context, RelatedQuery) ([]map[string]any, error) { return related, nil }
	}
	return opts
}

func mapAt(m map[string]any, key string) (map[string]any, bool) {
	v, ok := getKey(m, key)
	if !ok {
		return nil, false
	}
	mm, ok := v.(map[string]any)
	return mm, ok
}

// sourceText accepts a rule or definition as JSON text or as YAML
// structure.
func sourceText(src any) ([]byte, error) {
	if s, ok := src.(string); ok {
		return []byte(s), nil
	}
	return json.Marshal(Normalize(src))
}

// aliasesFor loads the alias table a case or its file names, looked up
// next to the file, in an aliases/ directory beside it, or in ../aliases.
func (r *CaseRunner) aliasesFor(cf *CaseFile, c *Case) (*AliasTable, error) {
	name := c.Aliases
	if name == "" {
		name = cf.Aliases
	}
	if name == "" {
		return r.Aliases, nil
	}
	dir := filepath.Dir(cf.Path)
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, "aliases", name), filepath.Join(dir, "..", "aliases", name)} {
		if t, ok := r.tables[p]; ok {
			return t, nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		t, err := LoadAliases(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if r.tables == nil {
			r.tables = map[string]*AliasTable{}
		}
		r.tables[p] = t
		return t, nil
	}
	return nil, fmt.Errorf("alias table %q not found next to %s", name, cf.Path)
}

// detailsMatch reports whether the details contain what want expects:
// every key of an expected object (compared case-insensitively) with a
// matching value, arrays element by element.
func detailsMatch(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := getKey(g, k)
			if !ok || !detailsMatch(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !detailsMatch(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return exactEqual(want, got)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// CaseFiles expands paths (files or directories) into the YAML case files
// they hold, sorted.
func CaseFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}
