package template

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/armexpr"
)

// shared is the state of one expansion that nested templates share: the
// resources written so far and the parse cache.
type shared struct {
	mu        sync.Mutex
	parsed    map[string]armexpr.Node
	resources []*Resource
	existing  []string
	declared  int
}

// expander expands one template (the main one or a nested one).
type expander struct {
	t              *Template
	opts           *Options
	shared         *shared
	scope          Scope
	deploymentName string
	// parent is the template a nested template is declared in; outer
	// makes parameters, variables and functions resolve there.
	parent *expander
	outer  bool

	path string // the JSON path prefix of this template in its file

	params map[string]*paramState
	given  map[string]any
	vars   map[string]*varState
	funcs  map[string]map[string]any

	decls   []*decl
	bySym   map[string][]*decl
	byLoop  map[string][]*decl
	byID    map[string]*decl
	byRel   map[string]*decl
	byName  map[string][]*decl
	outputs map[string]any
}

type varState struct {
	name  string
	raw   any
	value any
	state int
}

// Expand expands a template with the given options. Template and
// parameter errors are *Error values; errors from Options.Write are
// returned as they are.
func Expand(t *Template, opts Options) (*Result, error) {
	sh := &shared{parsed: map[string]armexpr.Node{}}
	x := &expander{t: t, opts: &opts, shared: sh, scope: opts.Scope, deploymentName: opts.DeploymentName}
	if err := x.checkSchema(); err != nil {
		return nil, err
	}
	if err := x.declareParameters(opts.Parameters); err != nil {
		return nil, err
	}
	if err := x.run(); err != nil {
		return nil, err
	}
	return &Result{Resources: sh.resources, Existing: sh.existing, Outputs: x.outputs, Parameters: x.boundParameters(),
		ContentVersion: stringFold(t.Doc, "contentVersion")}, nil
}

func (x *expander) checkSchema() error {
	if _, ok := keyFold(x.t.Doc, "$schema"); !ok && x.parent == nil {
		return templateErr("The template is missing '$schema'. Please see https://aka.ms/arm-syntax for usage details.")
	}
	if cv, ok := keyFold(x.t.Doc, "contentVersion"); ok {
		if _, isStr := cv.(string); !isStr {
			return templateErr("The template's 'contentVersion' must be a string.")
		}
	} else if x.parent == nil {
		return templateErr("The template is missing 'contentVersion'. Please see https://aka.ms/arm-syntax for usage details.")
	}
	if lv := stringFold(x.t.Doc, "languageVersion"); lv != "" && lv != "1.0" && lv != "2.0" && !strings.HasPrefix(lv, "1.") && !strings.HasPrefix(lv, "2.") {
		return templateErr("The template language version '%s' is not supported.", lv)
	}
	for k := range x.t.Doc {
		switch lower(k) {
		case "$schema", "contentversion", "apiprofile", "parameters", "variables", "functions", "resources", "outputs",
			"metadata", "languageversion", "definitions", "imports":
		default:
			return templateErr("The template property '%s' is not allowed. Please see https://aka.ms/arm-syntax for usage details.", k)
		}
	}
	return nil
}

// run declares the resources, realizes them in dependency order and
// evaluates the outputs.
func (x *expander) run() error {
	if err := x.declareVariables(); err != nil {
		return err
	}
	if err := x.declareFunctions(); err != nil {
		return err
	}
	if err := x.declareResources(); err != nil {
		return err
	}
	for _, d := range x.decls {
		if err := x.realize(d); err != nil {
			return err
		}
	}
	return x.evalOutputs()
}

func (x *expander) symbolic() bool {
	return strings.HasPrefix(stringFold(x.t.Doc, "languageVersion"), "2.")
}

// at attaches a path (and the line it starts on) to a template error.
func (x *expander) at(path string, err error) error {
	te, ok := err.(*Error)
	if !ok || te.Path != "" {
		return err
	}
	full := path
	if x.path != "" {
		full = x.path + "." + path
	}
	te.Path = full
	if p, ok := x.nearest(full); ok {
		te.Line, te.Column = p.Line, p.Column
	}
	return te
}

// nearest finds the position of path or its closest indexed ancestor.
func (x *expander) nearest(path string) (Pos, bool) {
	root := x.root()
	for p := path; p != ""; {
		if pos, ok := root.t.pos[p]; ok {
			return pos, true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return Pos{}, false
}

// pos is where a path of this template starts (zero when unknown).
func (x *expander) pos(path string) Pos {
	full := path
	if x.path != "" {
		full = x.path + "." + path
	}
	p, _ := x.nearest(full)
	return p
}

// root is the expander of the file this template's positions live in.
func (x *expander) root() *expander {
	r := x
	for r.parent != nil && r.t.pos == nil {
		r = r.parent
	}
	return r
}

func (x *expander) file() string { return x.root().t.File }

func (x *expander) offline() bool { return x.opts.Write == nil }

// lookupParam resolves parameters(name), in the parent's template for an
// outer-scope nested template.
func (x *expander) lookupParam(name string) (any, error) {
	if x.outer {
		return x.parent.lookupParam(name)
	}
	return x.param(name)
}

func (x *expander) lookupVariable(name string) (any, error) {
	if x.outer {
		return x.parent.lookupVariable(name)
	}
	return x.variable(name)
}

// declareVariables reads the variables; they are evaluated on first use.
func (x *expander) declareVariables() error {
	x.vars = map[string]*varState{}
	raw, _ := keyFold(x.t.Doc, "variables")
	vm, ok := raw.(map[string]any)
	if raw != nil && !ok {
		return templateErr("The template's 'variables' must be an object.")
	}
	for k, v := range vm {
		if strings.EqualFold(k, "copy") {
			loops, ok := v.([]any)
			if !ok {
				return x.at("variables.copy", templateErr("The variables' 'copy' must be an array of loops."))
			}
			for i, l := range loops {
				lm, ok := l.(map[string]any)
				if !ok {
					return x.at("variables.copy", templateErr("A variable copy loop must be an object."))
				}
				name := stringFold(lm, "name")
				if name == "" {
					return x.at(fmt.Sprintf("variables.copy[%d]", i), templateErr("A variable copy loop needs a name."))
				}
				x.vars[lower(name)] = &varState{name: name, raw: map[string]any{"copy": []any{lm}}}
			}
			continue
		}
		x.vars[lower(k)] = &varState{name: k, raw: v}
	}
	return nil
}

func (x *expander) variable(name string) (any, error) {
	v, ok := x.vars[lower(name)]
	if !ok {
		return nil, templateErr("The template variable '%s' is not found. Please see https://aka.ms/arm-template/#variables for usage details.", name)
	}
	switch v.state {
	case 2:
		return v.value, nil
	case 1:
		return nil, templateErr("The template variable '%s' refers to itself.", v.name)
	}
	v.state = 1
	val, err := x.value(v.raw, &frame{}, "variables."+v.name)
	if err != nil {
		v.state = 0
		return nil, err
	}
	if m, ok := val.(map[string]any); ok && len(m) == 1 {
		if _, isCopy := v.raw.(map[string]any)["copy"]; isCopy {
			if arr, ok := m[v.name]; ok {
				val = arr
			}
		}
	}
	v.value, v.state = val, 2
	return val, nil
}

// declareFunctions reads the user-defined functions.
func (x *expander) declareFunctions() error {
	x.funcs = map[string]map[string]any{}
	raw, _ := keyFold(x.t.Doc, "functions")
	list, ok := raw.([]any)
	if raw != nil && !ok {
		return templateErr("The template's 'functions' must be an array.")
	}
	for _, ns := range list {
		nm, _ := ns.(map[string]any)
		space := stringFold(nm, "namespace")
		members, _ := keyFold(nm, "members")
		mm, _ := members.(map[string]any)
		if space == "" || mm == nil {
			return templateErr("A user-defined function namespace needs 'namespace' and 'members'.")
		}
		for name, def := range mm {
			dm, ok := def.(map[string]any)
			if !ok {
				return templateErr("The user-defined function '%s.%s' must be an object.", space, name)
			}
			x.funcs[lower(space+"."+name)] = dm
		}
	}
	return nil
}

func (x *expander) userFunction(name string, args []any) (any, error) {
	if x.outer {
		return x.parent.userFunction(name, args)
	}
	def, ok := x.funcs[name]
	if !ok {
		return nil, templateErr("The template function '%s' is not valid. Please see https://aka.ms/arm-template-expressions for usage details.", name)
	}
	decl, _ := keyFold(def, "parameters")
	plist, _ := decl.([]any)
	if len(plist) != len(args) {
		return nil, templateErr("The template function '%s' expects %d argument(s), got %d.", name, len(plist), len(args))
	}
	params := make(map[string]any, len(args))
	for i, p := range plist {
		pm, _ := p.(map[string]any)
		pn := stringFold(pm, "name")
		if err := x.checkValue(pn, pm, args[i]); err != nil {
			return nil, err
		}
		params[pn] = args[i]
	}
	out, _ := keyFold(def, "output")
	om, _ := out.(map[string]any)
	body, ok := keyFold(om, "value")
	if !ok {
		return nil, templateErr("The user-defined function '%s' has no output value.", name)
	}
	return x.value(body, &frame{fn: params}, "functions")
}

// evalOutputs evaluates the outputs after every resource is realized.
func (x *expander) evalOutputs() error {
	x.outputs = map[string]any{}
	raw, _ := keyFold(x.t.Doc, "outputs")
	om, ok := raw.(map[string]any)
	if raw != nil && !ok {
		return templateErr("The template's 'outputs' must be an object.")
	}
	names := make([]string, 0, len(om))
	for k := range om {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		def, ok := om[name].(map[string]any)
		path := "outputs." + name
		if !ok {
			return x.at(path, templateErr("The template output '%s' must be an object.", name))
		}
		if c, ok := keyFold(def, "condition"); ok {
			cv, err := x.value(c, &frame{}, path+".condition")
			if err != nil {
				return err
			}
			if b, _ := cv.(bool); !b {
				continue
			}
		}
		var v any
		var err error
		if cp, ok := keyFold(def, "copy"); ok {
			cm, _ := cp.(map[string]any)
			n, cerr := x.count(mustFold(cm, "count"), &frame{}, path+".copy.count")
			if cerr != nil {
				return cerr
			}
			arr := make([]any, 0, n)
			for i := 0; i < n; i++ {
				e, err := x.value(mustFold(cm, "input"), &frame{loop: name, idx: i}, path+".copy.input")
				if err != nil {
					return err
				}
				arr = append(arr, e)
			}
			v = arr
		} else if v, err = x.value(mustFold(def, "value"), &frame{}, path+".value"); err != nil {
			return err
		}
		t := stringFold(def, "type")
		if t == "" {
			if d, err := x.resolveType(def); err == nil {
				t = stringFold(d, "type")
			}
		}
		x.outputs[name] = map[string]any{"type": outputType(t), "value": v}
	}
	return nil
}
