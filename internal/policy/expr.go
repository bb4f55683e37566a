package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-gov/steward/internal/armexpr"
)

// isExpression reports whether s is a template expression ("[...]" but
// not the "[[" escape).
func isExpression(s string) bool { return armexpr.IsExpression(s) }

// parseExpr parses an expression string including its brackets.
func parseExpr(s string) (armexpr.Node, error) { return armexpr.Parse(s) }

// hostFuncs are the functions this package supplies to expressions.
var hostFuncs = map[string]bool{
	"field": true, "parameters": true, "current": true, "policy": true,
	"requestcontext": true, "resourcegroup": true, "subscription": true,
}

// disallowedFuncs are the template functions Azure Policy does not offer
// in policy rules (definition-structure-policy-rule.md, "Policy
// functions"); using one is a compile error.
var disallowedFuncs = map[string]bool{
	"copyindex": true, "deployment": true, "environment": true, "extensionresourceid": true,
	"lambda": true, "filter": true, "map": true, "reduce": true, "sort": true, "toobject": true,
	"listaccountsas": true, "listkeys": true, "listsecrets": true, "managementgroup": true,
	"newguid": true, "pickzones": true, "providers": true, "reference": true, "resourceid": true,
	"subscriptionresourceid": true, "tenantresourceid": true, "tenant": true, "variables": true,
	// Not in Learn's list, but the conformance suite (parse_errors.yaml)
	// expects them rejected in rules; effect details still tolerate them.
	"guid": true, "uniquestring": true,
}

// exprInfo classifies an expression for constant folding.
type exprInfo struct {
	usesParams  bool // calls parameters()
	usesContext bool // calls field, current, policy, requestContext, utcNow, ...
	fieldArgs   []string
}

// analyzeExpr walks a parsed expression: it rejects functions policy rules
// may not use and records which host functions it needs.
func analyzeExpr(n armexpr.Node) (exprInfo, error) {
	var info exprInfo
	var err error
	armexpr.Walk(n, func(n armexpr.Node) bool {
		c, ok := n.(*armexpr.FuncCall)
		if !ok {
			return true
		}
		name := strings.ToLower(c.Name)
		switch {
		case disallowedFuncs[name] || (strings.HasPrefix(name, "list") && name != "last" && name != "lastindexof"):
			// Keep walking: callers that tolerate the error (effect
			// details) still need to know whether the expression
			// depends on the resource or the request, or it would be
			// folded to a constant at compile time.
			if err == nil {
				err = fmt.Errorf("function %s is not available in policy rules", c.Name)
			}
		case name == "parameters":
			info.usesParams = true
		case hostFuncs[name] || name == "utcnow":
			info.usesContext = true
			if name == "field" && len(c.Args) == 1 {
				if s, ok := c.Args[0].(*armexpr.StringLit); ok {
					info.fieldArgs = append(info.fieldArgs, s.Value)
				}
			}
		}
		return true
	})
	return info, err
}

// errUndefined marks a host function result that does not exist (a
// missing field); evaluation surfaces it as an undefined operand.
var errUndefined = errors.New("undefined")

// host is the armexpr host function of an evaluation state.
func (st *state) host(name string, args []any) (any, bool, error) {
	switch strings.ToLower(name) {
	case "parameters":
		if len(args) != 1 {
			return nil, true, fmt.Errorf("parameters takes 1 argument, got %d", len(args))
		}
		pn, ok := args[0].(string)
		if !ok {
			return nil, true, fmt.Errorf("parameters takes a string, got %s", armexpr.TypeName(args[0]))
		}
		v, ok := st.params[strings.ToLower(pn)]
		if !ok {
			if v, ok = armexpr.Lookup(st.params, pn); !ok {
				return nil, true, fmt.Errorf("parameter %q is not defined or has no value", pn)
			}
		}
		return v, true, nil
	case "field":
		if len(args) != 1 {
			return nil, true, fmt.Errorf("field takes 1 argument, got %d", len(args))
		}
		fn, ok := args[0].(string)
		if !ok {
			return nil, true, fmt.Errorf("field takes a string, got %s", armexpr.TypeName(args[0]))
		}
		return st.fieldFunc(fn)
	case "current":
		return st.currentFunc(args)
	case "policy":
		return contextObject(st.opts.Policy), true, nil
	case "requestcontext":
		rc := st.opts.RequestContext
		if rc == nil {
			rc = map[string]any{}
		}
		if _, ok := armexpr.Lookup(rc, "apiVersion"); !ok {
			// Outside a request (compliance evaluation) Azure uses the
			// type's latest api-version (Learn, "Policy functions":
			// requestContext().apiVersion); the caller that knows it passes
			// it in RequestContext, else the alias table's is used.
			v := st.apiVersion
			if v == "" {
				v = st.pol.aliases.LatestAPIVersion(st.primary.typ)
			}
			if v != "" {
				cp := make(map[string]any, len(rc)+1)
				for k, val := range rc {
					cp[k] = val
				}
				cp["apiVersion"] = v
				rc = cp
			}
		}
		return rc, true, nil
	case "resourcegroup":
		return contextObject(st.opts.ResourceGroup), true, nil
	case "subscription":
		return contextObject(st.opts.Subscription), true, nil
	case "utcnow":
		// Policy's utcNow() takes no format and returns ISO 8601; the
		// library's ARM form (with a format argument) is used otherwise.
		if len(args) == 0 {
			now := st.ec.Now
			if now.IsZero() {
				now = time.Now()
			}
			return now.UTC().Format(time.RFC3339Nano), true, nil
		}
	}
	return nil, false, nil
}

func contextObject(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// evalExpr evaluates a parsed expression in the state's context.
func (st *state) evalExpr(n armexpr.Node) (any, error) {
	v, err := armexpr.Eval(n, &st.ec)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// evalExprString evaluates a literal-or-expression string.
func (st *state) evalExprString(s string) (any, error) {
	if !isExpression(s) {
		if strings.HasPrefix(s, "[[") {
			return s[1:], nil
		}
		return s, nil
	}
	n, err := parseExpr(s)
	if err != nil {
		return nil, err
	}
	return st.evalExpr(n)
}

// evalDeep evaluates every expression string inside a value (effect
// details), returning a fresh copy.
func (st *state) evalDeep(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return st.evalExprString(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := st.evalDeep(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := st.evalDeep(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}
