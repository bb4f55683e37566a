package policy

import (
	"fmt"
	"strings"
	"sync"

	"github.com/steward-gov/steward/internal/armexpr"
)

// CompileError is a definition that parses but cannot be compiled: a
// template function policy rules may not use, a modify operation on an
// alias that is not modifiable, a bad pattern. Path is the JSON path.
type CompileError struct {
	Path    string
	Message string
	// Code is Azure's error code where Steward knows it (the rule limits,
	// see limits.go); empty otherwise.
	Code string
}

// Error formats the path, Azure's code when known, and the message.
func (e *CompileError) Error() string {
	if e.Code != "" {
		return e.Path + ": " + e.Code + ": " + e.Message
	}
	return e.Path + ": " + e.Message
}

// CompileOptions configure Compile.
type CompileOptions struct {
	// Aliases resolves alias fields; nil uses the documented default rule
	// ("Namespace/type/a.b" is "properties.a.b").
	Aliases *AliasTable
	// Parameters, when non-nil, are the parameter values (as given to an
	// assignment) bound at compile time: expressions that depend only on
	// parameters are evaluated once here. Missing values fall back to
	// defaultValue; a parameter with neither is an error.
	Parameters map[string]any
	// AllowUnknownAliases compiles fields that look like aliases but are
	// not in Aliases by the documented default rule, and makes the policy
	// not applicable (UnknownAliases), instead of failing with
	// InvalidPolicyAlias as Azure does when a definition is created.
	AllowUnknownAliases bool

	// setMember marks a member of an initiative: its allowedValues are
	// compared ignoring case (see resolveParameters).
	setMember bool
}

// Policy is a compiled policy definition, ready to evaluate many
// resources. It is read-only and safe for concurrent use.
type Policy struct {
	def         *Definition
	mode        Mode
	rpMode      bool
	root        node
	then        *thenNode
	params      map[string]any // lower-case names
	paramsBound bool
	aliases     *AliasTable
	fields      map[string]*fieldRef // field() arguments known at compile time
	dynFields   sync.Map             // string -> *fieldRef
	pool        sync.Pool
	typeFilter  *typeFilter
	// unknownAliases are alias fields of the if condition the alias
	// table does not know.
	unknownAliases []string
	// warnings are what the definition lacks that Azure does not refuse
	// (missing modify/deployIfNotExists details), reported by lint.
	warnings []*CompileError
	// applicability and hasLocation drive Applicable.
	applicability uint8
	hasLocation   bool
}

// Definition returns the definition the policy was compiled from.
func (p *Policy) Definition() *Definition { return p.def }

// compiler carries the state of one Compile call.
type compiler struct {
	p   *Policy
	cst *state // evaluates constant expressions
	// inDetails is set while compiling effect details, where deployment
	// functions such as uniqueString are allowed.
	inDetails bool
	// lim counts what the rule limits bound; maxConds and condBlock are
	// the condition limit of the block being compiled and its path.
	lim       limits
	maxConds  int
	condBlock string
	// allowUnknown is CompileOptions.AllowUnknownAliases.
	allowUnknown bool
	// counted is the field of the innermost field count whose where is
	// being compiled, nil outside one.
	counted *fieldRef
}

// Compile compiles a parsed definition. Errors are *CompileError or, for
// bad parameter values, *ParameterError.
func Compile(d *Definition, opts CompileOptions) (p *Policy, err error) {
	return compile(d, opts, opts.Parameters != nil)
}

// compile compiles a definition; strict makes missing parameter values an
// error (an assignment binds them all).
func compile(d *Definition, opts CompileOptions, strict bool) (p *Policy, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &CompileError{Path: d.rootPath, Message: fmt.Sprintf("internal compiler error: %v", r)}
		}
	}()
	if d == nil || d.Rule == nil {
		return nil, &CompileError{Path: "$", Message: "definition has no policyRule"}
	}
	p = &Policy{def: d, aliases: opts.Aliases, fields: map[string]*fieldRef{}}
	p.mode = ParseMode(d.Mode)
	p.rpMode = p.mode.IsResourceProvider()
	p.params, err = resolveParameters(d.Parameters, opts.Parameters, strict, opts.setMember)
	if err != nil {
		return nil, err
	}
	// Parameters with values (assigned or default) are folded into
	// constants; one without is evaluated, and fails, per resource.
	p.paramsBound = true
	c := &compiler{p: p, allowUnknown: opts.AllowUnknownAliases}
	c.cst = &state{pol: p, params: p.params, opts: &EvalOptions{}}
	c.cst.ec.Host = c.cst.host
	c.cst.res = NewResource(nil)
	c.cst.primary = c.cst.res
	c.maxConds, c.condBlock = MaxIfConditions, d.Rule.If.Path
	if p.root, err = c.condition(d.Rule.If); err != nil {
		return nil, err
	}
	if p.then, err = c.thenBlock(d.Rule.Then); err != nil {
		return nil, err
	}
	p.typeFilter = buildTypeFilter(d.Rule.If)
	p.applicability, p.hasLocation = applicabilityOf(d.Rule.If)
	p.pool.New = func() any {
		st := &state{pol: p}
		st.ec.Host = st.host
		return st
	}
	return p, nil
}

// Compile compiles the definition; see the package function Compile.
func (d *Definition) Compile(opts CompileOptions) (*Policy, error) { return Compile(d, opts) }

// UnknownAliases lists the alias fields of the rule's if condition that
// the alias table given to Compile does not know (empty without a table,
// and without CompileOptions.AllowUnknownAliases, which makes them a
// compile error). Such a policy is not applicable (see Applicable).
func (p *Policy) UnknownAliases() []string { return p.unknownAliases }

// Warnings returns what the definition lacks that Azure accepts anyway
// (modify or deployIfNotExists details Learn calls required), each with
// its JSON path. The policy evaluates what it can without them.
func (p *Policy) Warnings() []*CompileError { return p.warnings }

// ParseAndCompile parses and compiles a definition document.
func ParseAndCompile(data []byte, opts CompileOptions) (*Policy, error) {
	d, err := ParseDefinition(data)
	if err != nil {
		return nil, err
	}
	return Compile(d, opts)
}

func cerr(path, format string, args ...any) *CompileError {
	return &CompileError{Path: path, Message: fmt.Sprintf(format, args...)}
}

func (c *compiler) condition(cd *Condition) (node, error) {
	switch cd.Kind {
	case CondAllOf, CondAnyOf:
		kids := make([]node, len(cd.Children))
		for i, ch := range cd.Children {
			n, err := c.condition(ch)
			if err != nil {
				return nil, err
			}
			kids[i] = n
		}
		if cd.Kind == CondAllOf {
			return &allOfNode{kids: kids}, nil
		}
		return &anyOfNode{kids: kids}, nil
	case CondNot:
		n, err := c.condition(cd.Children[0])
		if err != nil {
			return nil, err
		}
		return &notNode{kid: n}, nil
	}
	if err := c.lim.condition(c.maxConds, c.condBlock); err != nil {
		return nil, err
	}
	l := &leafNode{kind: cd.Kind, op: cd.Op, path: cd.Path}
	var err error
	switch cd.Kind {
	case CondField:
		l.text = cd.Field
		if l.field, l.fieldExpr, err = c.fieldOf(cd.Field, cd.Path+".field"); err != nil {
			return nil, err
		}
		l.loc = l.field != nil && l.field.kind == fieldLocation
	case CondValue:
		l.text = formatValue(cd.Value)
		if l.val, err = c.operand(cd.Value, cd.Path+".value"); err != nil {
			return nil, err
		}
	case CondCount:
		if l.cnt, err = c.count(cd.Count); err != nil {
			return nil, err
		}
		l.text = "count(" + l.cnt.text + ")"
	}
	if l.rhs, err = c.operand(cd.Operand, cd.Path+"."+cd.Op.String()); err != nil {
		return nil, err
	}
	if l.rhs.folded {
		if l.rhs.prep, err = prepareRHS(cd.Op, l.rhs.val, l.loc); err != nil {
			return nil, cerr(cd.Path+"."+cd.Op.String(), "%v", err)
		}
	}
	return l, nil
}

// fieldOf compiles a field name, or an expression yielding one.
func (c *compiler) fieldOf(name, path string) (*fieldRef, *operand, error) {
	if isExpression(name) {
		o, err := c.operand(name, path)
		if err != nil {
			return nil, nil, err
		}
		if !o.folded {
			return nil, o, nil
		}
		s, ok := o.val.(string)
		if !ok && !o.paramDep {
			return nil, nil, cerr(path, "field expression gives %s, want a string", armexpr.TypeName(o.val))
		}
		f, err := compileField(s, c.p.aliases)
		if err != nil || !ok {
			if o.paramDep {
				// A default that makes no field (an empty tag name):
				// resolved, and reported, per evaluation.
				return nil, o, nil
			}
			return nil, nil, cerr(path, "%v", err)
		}
		return f, o, nil
	}
	f, err := compileField(name, c.p.aliases)
	if err != nil {
		return nil, nil, cerr(path, "%v", err)
	}
	// Resource Provider modes name data-plane aliases, which come from the
	// providers' data policy manifests, not from the ARM table.
	if f.unknown && !c.inDetails && !c.p.rpMode {
		if !c.allowUnknown {
			return nil, nil, invalidAlias(name, path)
		}
		c.p.unknownAliases = append(c.p.unknownAliases, f.text)
	}
	return f, nil, nil
}

func (c *compiler) count(cn *Count) (*countNode, error) {
	n := &countNode{name: cn.Name, text: cn.Field}
	var err error
	if cn.HasValue {
		n.text = formatValue(cn.Value)
		if n.value, err = c.operand(cn.Value, cn.Path+".value"); err != nil {
			return nil, err
		}
		if n.name == "" {
			n.name = "default"
		}
		constLen := -1
		if arr, ok := n.value.val.([]any); ok && n.value.folded {
			constLen = len(arr)
		}
		inner, err := c.lim.count(cn, constLen)
		if err != nil {
			return nil, err
		}
		saved := c.lim.iterations
		c.lim.iterations = inner
		defer func() { c.lim.iterations = saved }()
	} else {
		if _, err := c.lim.count(cn, -1); err != nil {
			return nil, err
		}
		if n.field, n.fieldExpr, err = c.fieldOf(cn.Field, cn.Path+".field"); err != nil {
			return nil, err
		}
		if n.field != nil && !n.field.wildcard {
			return nil, cerr(cn.Path+".field", "count.field must be an array alias with [*], got %q", cn.Field)
		}
		// Learn (author-arrays, "Nested field count expressions can only
		// refer to nested arrays"): inside the where of a count over
		// a[*], a field count must count an array under a[*].
		if out := c.counted; out != nil && n.field != nil &&
			(len(n.field.segs) <= len(out.segs) || !segsPrefix(out.segs, n.field.segs)) {
			return nil, cerr(cn.Path+".field", "a count inside the where of the count of %q can only count an array nested in it, got %q",
				out.text, n.field.text)
		}
	}
	if cn.Where != nil {
		saved := c.counted
		if !cn.HasValue && n.field != nil {
			c.counted = n.field
		}
		n.where, err = c.condition(cn.Where)
		c.counted = saved
		if err != nil {
			return nil, err
		}
	}
	return n, nil
}

// CodeInvalidPolicyAlias is Azure's error code for a policy rule whose
// field names an alias the resource provider does not declare.
const CodeInvalidPolicyAlias = "InvalidPolicyAlias"

// invalidAlias is the compile error for an alias the table lacks, worded
// as Azure words it.
func invalidAlias(name, path string) *CompileError {
	typ := aliasResourceType(name)
	ns, rt, _ := strings.Cut(typ, "/")
	return &CompileError{Path: path, Code: CodeInvalidPolicyAlias, Message: fmt.Sprintf(
		"the 'field' property '%s' of the policy rule doesn't exist as an alias under provider '%s' and resource type '%s'",
		name, ns, rt)}
}
