package policy

import (
	"context"
	"time"

	"github.com/steward-gov/steward/internal/armexpr"
)

// EvalOptions are the inputs of an evaluation besides the resource.
type EvalOptions struct {
	// Parameters, when non-nil, are parameter values for this evaluation
	// (overriding those bound at compile time); defaults fill the gaps.
	Parameters map[string]any
	// APIVersion selects versioned alias paths; requestContext().apiVersion
	// returns it unless RequestContext sets one. Empty uses the resource's
	// apiVersion property, if any, else default paths.
	APIVersion string
	// RequestContext is what requestContext() returns (apiVersion,
	// identity, ...).
	RequestContext map[string]any
	// Policy is what policy() returns (assignmentId, definitionId,
	// setDefinitionId, definitionReferenceId).
	Policy map[string]any
	// ResourceGroup and Subscription are what resourceGroup() and
	// subscription() return.
	ResourceGroup, Subscription map[string]any
	// Now is the time utcNow() sees; zero means the current time.
	Now time.Time
	// Related finds the related resources of auditIfNotExists and
	// deployIfNotExists. Nil means none exist.
	Related RelatedFunc
	// Explain records every evaluated condition in Result.Explanation.
	Explain bool
	// EffectOverride, when set, replaces the rule's effect (an
	// assignment's policyEffect override).
	EffectOverride string
}

// RelatedQuery asks for the resources related to an evaluated resource,
// as auditIfNotExists/deployIfNotExists details describe them.
type RelatedQuery struct {
	Resource          *Resource
	Type              string
	Name              string // empty, a name, or "parent/?"-style pattern
	ResourceGroupName string
	ExistenceScope    string // ResourceGroup or Subscription
}

// RelatedFunc returns the resource documents matching a query.
type RelatedFunc func(ctx context.Context, q RelatedQuery) ([]map[string]any, error)

// EvaluatedExpression explains one evaluated condition, in the shape of
// ARM's evaluationDetails.evaluatedExpressions.
type EvaluatedExpression struct {
	Result          bool   `json:"result"`
	ExpressionKind  string `json:"expressionKind"`
	Expression      string `json:"expression"`
	Path            string `json:"path,omitempty"`
	ExpressionValue any    `json:"expressionValue"`
	TargetValue     any    `json:"targetValue"`
	Operator        string `json:"operator"`
	// Missing reports that the field does not exist on the resource.
	Missing bool `json:"missing,omitempty"`
	// JSONPath is the condition's location in the definition.
	JSONPath string `json:"jsonPath,omitempty"`
}

// Result is the outcome of evaluating one policy against one resource.
type Result struct {
	// Effect is the effect that applies, in its documented spelling
	// ("deny", "auditIfNotExists", ...); empty when none applies.
	Effect string `json:"effect,omitempty"`
	// Matched reports whether the if condition held.
	Matched bool `json:"matched"`
	// State is the compliance state of the resource for this policy.
	State ComplianceState `json:"complianceState"`
	// Details are the effect's details with expressions evaluated.
	// Constant details are shared between evaluations: treat them as
	// read-only.
	Details any `json:"details,omitempty"`
	// Explanation lists the evaluated conditions when requested.
	Explanation []EvaluatedExpression `json:"evaluatedExpressions,omitempty"`
	// Err is the evaluation error behind the Error state.
	Err error `json:"-"`
	// Error is Err's message, for JSON output.
	Error string `json:"error,omitempty"`
}

// EvalError is a failed evaluation: a type mismatch, a failing template
// function, a missing parameter. Path is the JSON path of the condition.
type EvalError struct {
	Path string
	Err  error
	msg  string // the formatted message, when computed ahead
}

// Error formats the path and cause.
func (e *EvalError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *EvalError) Unwrap() error { return e.Err }

// state is the per-evaluation scratch space; states are pooled per
// policy so evaluating allocates nothing on the common path.
type state struct {
	ctx            context.Context
	pol            *Policy
	res            *Resource // the resource field conditions read
	primary        *Resource // the resource field() reads
	params         map[string]any
	paramsOverride bool
	opts           *EvalOptions
	optsVal        EvalOptions // opts points here during Evaluate
	apiVersion     string
	ec             armexpr.EvalContext
	scopes         []scope
	vals           []value
	explain        bool
	evaluated      []EvaluatedExpression
	applic         uint8 // applicability mode (see Applicable); 0 evaluates normally
	negated        bool  // under an odd number of nots, in applicability mode
	// iterations is the product of the iterations of the value counts
	// being evaluated (0 outside any), for MaxValueCountIterations.
	iterations int
}

func (st *state) fail(n *leafNode, err error) error {
	if ee, ok := err.(*EvalError); ok {
		return ee
	}
	return &EvalError{Path: n.path, Err: err}
}

func (st *state) record(n *leafNode, f *fieldRef, v any, ok bool, target any, res bool) {
	e := EvaluatedExpression{Result: res, Expression: n.text, ExpressionValue: v, TargetValue: target,
		Operator: n.op.String(), Missing: !ok, JSONPath: n.path}
	switch n.kind {
	case CondField:
		e.ExpressionKind = "Field"
		if f != nil {
			_, e.Path = f.pathFor(st.apiVersion)
			e.Expression = f.text
		}
	case CondValue:
		e.ExpressionKind = "Value"
	default:
		e.ExpressionKind = "Count"
	}
	st.evaluated = append(st.evaluated, e)
}

// Evaluate evaluates the policy against a resource. It never panics: an
// evaluation failure gives the Error state with Err set.
func (p *Policy) Evaluate(ctx context.Context, res *Resource, opts EvalOptions) (out Result) {
	st := p.pool.Get().(*state)
	defer func() {
		if r := recover(); r != nil {
			out = Result{State: StateError, Err: &EvalError{Path: p.def.rootPath, Err: errorf("internal evaluation error: %v", r)}}
		}
		if out.Err != nil {
			out.Error = out.Err.Error()
		}
		st.reset()
		p.pool.Put(st)
	}()
	st.optsVal = opts
	if err := st.begin(ctx, p, res, &st.optsVal); err != nil {
		return Result{State: StateError, Err: err}
	}
	effect, err := p.then.effectName(st)
	if err != nil {
		return Result{State: StateError, Err: err}
	}
	if opts.EffectOverride != "" {
		if effect, err = overrideEffect(opts.EffectOverride, p.then.path); err != nil {
			return Result{State: StateError, Err: err}
		}
	}
	if effect == EffectDisabled {
		return Result{State: StateNotStarted}
	}
	matched, err := p.root.eval(st)
	out.Explanation = st.takeExplanation()
	if err != nil {
		out.State, out.Err = StateError, err
		return out
	}
	if !matched {
		out.State = StateCompliant
		return out
	}
	out.Matched = true
	p.then.apply(st, effect, &out)
	if st.explain && len(st.evaluated) > 0 {
		out.Explanation = append(out.Explanation, st.takeExplanation()...)
	}
	return out
}

func (st *state) begin(ctx context.Context, p *Policy, res *Resource, opts *EvalOptions) error {
	st.ctx, st.pol, st.opts = ctx, p, opts
	if res == nil {
		res = NewResource(nil)
	}
	st.res, st.primary = res, res
	st.apiVersion = opts.APIVersion
	if st.apiVersion == "" {
		st.apiVersion = res.apiVer
	}
	st.explain = opts.Explain
	st.ec.Now = opts.Now
	st.params, st.paramsOverride = p.params, false
	if opts.Parameters != nil {
		params, err := resolveParameters(p.def.Parameters, opts.Parameters, true, false)
		if err != nil {
			return err
		}
		st.params, st.paramsOverride = params, true
	}
	return nil
}

func overrideEffect(name, path string) (string, error) {
	e, ok := CanonicalEffect(name)
	if !ok {
		return "", &EvalError{Path: path + ".effect", Err: errorf("unknown override effect %q", name)}
	}
	return e, nil
}

func (st *state) takeExplanation() []EvaluatedExpression {
	if len(st.evaluated) == 0 {
		return nil
	}
	out := append([]EvaluatedExpression(nil), st.evaluated...)
	st.evaluated = st.evaluated[:0]
	return out
}

func (st *state) reset() {
	st.ctx, st.res, st.primary, st.opts, st.params = nil, nil, nil, nil, nil
	st.optsVal = EvalOptions{}
	st.scopes, st.vals, st.evaluated = st.scopes[:0], st.vals[:0], st.evaluated[:0]
	st.applic, st.negated, st.iterations = 0, false, 0
	if cap(st.vals) > 4096 {
		st.vals = nil
	}
}
