package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/steward-gov/steward/internal/armexpr"
)

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
	pol, err := Compile(def, CompileOptions{Aliases: aliases, AllowUnknownAliases: r.AllowUnknownAliases})
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
	v, ok := armexpr.Lookup(m, key)
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
			gv, ok := armexpr.Lookup(g, k)
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
