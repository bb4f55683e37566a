package policy

import (
	"context"
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
	File string `json:"file"`
	Note string `json:"note"`
	Pass bool   `json:"pass"`
	// Want and Got describe the expectation and the outcome when the
	// case failed.
	Want string `json:"want"`
	Got  string `json:"got"`
	// DetailsDiff is a line diff of the expected and actual effect
	// details (indented JSON, "-" expected, "+" actual) when they differ.
	DetailsDiff string `json:"detailsDiff,omitempty"`
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
	if len(cf.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases (want a top-level cases: list)", path)
	}
	for i, c := range cf.Cases {
		if c.Note == "" {
			return nil, fmt.Errorf("%s: case %d has no note", path, i+1)
		}
	}
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
	// AllowUnknownAliases is CompileOptions.AllowUnknownAliases for every
	// case: without it a rule naming an alias its table lacks is a
	// compile error.
	AllowUnknownAliases bool
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
				res.DetailsDiff = lineDiff(indentJSON(wd), indentJSON(details))
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
