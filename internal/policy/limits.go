package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// Azure Policy's limits on the structure of a policy rule
// (concepts/definition-structure-policy-rule.md, "Policy rule limits").
// Compile enforces them; the value count iterations are checked again
// during evaluation when the counted array is known only then.
const (
	// MaxIfConditions caps the condition expressions of the if block.
	MaxIfConditions = 4096
	// MaxExistenceConditions caps the condition expressions of an
	// existenceCondition (auditIfNotExists, deployIfNotExists).
	MaxExistenceConditions = 128
	// MaxFunctions caps the policy function calls of a rule.
	MaxFunctions = 2048
	// MaxFunctionArgs caps the arguments of one function call.
	MaxFunctionArgs = 128
	// MaxFunctionDepth caps the nesting of function calls.
	MaxFunctionDepth = 64
	// MaxFieldCountsPerArray caps the field count expressions over one
	// [*] array.
	MaxFieldCountsPerArray = 5
	// MaxValueCounts caps the value count expressions of a rule.
	MaxValueCounts = 10
	// MaxValueCountIterations caps the iterations of a value count,
	// multiplied by those of the value counts around it. Learn says 100;
	// the service enforces 200 and built-ins iterate 115 times (see
	// docs/decisions/policy.md).
	MaxValueCountIterations = 200
)

// Codes of the limit errors. TooManyCountExpressions is the code Azure
// answers for a value count over the iteration limit
// (Azure/azure-policy#1578); the other limits have no documented code.
const (
	CodeTooManyCountExpressions = "TooManyCountExpressions"
	CodePolicyRuleTooComplex    = "PolicyRuleTooComplex"
)

// limitErr is a compile error for an exceeded limit.
func limitErr(code, path, format string, args ...any) *CompileError {
	return &CompileError{Path: path, Code: code, Message: fmt.Sprintf(format, args...)}
}

// limits counts, during one compile, what the rule limits bound.
type limits struct {
	conditions  int
	valueCounts int
	calls       int
	fieldCounts map[string]int // by the counted array, lower case
	// iterations is the product of the iteration counts of the value
	// counts around the one being compiled whose arrays are constant.
	iterations int
}

// condition counts one condition expression; max is the limit of the
// block being compiled.
func (l *limits) condition(max int, blockPath string) error {
	l.conditions++
	if l.conditions > max {
		return limitErr(CodePolicyRuleTooComplex, blockPath,
			"the condition has more than %d condition expressions, the limit", max)
	}
	return nil
}

// count counts a count expression and returns the iteration product its
// where condition runs under (for value counts whose array is known).
func (l *limits) count(cn *Count, constLen int) (int, error) {
	if !cn.HasValue {
		if l.fieldCounts == nil {
			l.fieldCounts = map[string]int{}
		}
		k := strings.ToLower(cn.Field)
		l.fieldCounts[k]++
		if l.fieldCounts[k] > MaxFieldCountsPerArray {
			return 0, limitErr(CodeTooManyCountExpressions, cn.Path,
				"the array %s has more than %d 'field count' expressions, the limit", cn.Field, MaxFieldCountsPerArray)
		}
		return l.iterations, nil
	}
	l.valueCounts++
	if l.valueCounts > MaxValueCounts {
		return 0, limitErr(CodeTooManyCountExpressions, cn.Path,
			"the policy rule has more than %d 'value count' expressions, the limit", MaxValueCounts)
	}
	outer := max(l.iterations, 1)
	if constLen < 0 {
		return outer, nil
	}
	if n := outer * constLen; n > MaxValueCountIterations {
		return 0, limitErr(CodeTooManyCountExpressions, cn.Path+".value",
			"the 'value count' expression performs %d iterations, which exceeds the limit of %d", n, MaxValueCountIterations)
	}
	return outer * max(constLen, 1), nil
}

// checkIterations is the evaluation-time iteration limit of a value count
// over n members, inside value counts doing outer iterations.
func checkIterations(outer, n int) error {
	if total := max(outer, 1) * n; total > MaxValueCountIterations {
		return fmt.Errorf("%s: the 'value count' expression performs %d iterations, which exceeds the limit of %d",
			CodeTooManyCountExpressions, total, MaxValueCountIterations)
	}
	return nil
}

// functions counts the policy function calls of an expression of the
// rule (every expression the compiler sees: the if condition, the effect
// and its details, but not a deployment's template, which is the template
// engine's) and checks each call's arguments and nesting.
func (l *limits) functions(n armexpr.Node, path string) error {
	l.calls += countCalls(n)
	if l.calls > MaxFunctions {
		return limitErr(CodePolicyRuleTooComplex, path, "the policy rule calls more than %d functions, the limit", MaxFunctions)
	}
	return checkCalls(n, path, 0)
}

func countCalls(n armexpr.Node) int {
	calls := 0
	armexpr.Walk(n, func(x armexpr.Node) bool {
		if _, ok := x.(*armexpr.FuncCall); ok {
			calls++
		}
		return true
	})
	return calls
}

// checkCalls checks the argument count and nesting depth of calls.
func checkCalls(n armexpr.Node, path string, depth int) error {
	switch x := n.(type) {
	case *armexpr.Expr:
		return checkCalls(x.X, path, depth)
	case *armexpr.FuncCall:
		depth++
		if depth > MaxFunctionDepth {
			return limitErr(CodePolicyRuleTooComplex, path, "function calls are nested more than %d deep, the limit", MaxFunctionDepth)
		}
		if len(x.Args) > MaxFunctionArgs {
			return limitErr(CodePolicyRuleTooComplex, path, "%s has %d arguments, more than the limit of %d", x.Name, len(x.Args), MaxFunctionArgs)
		}
		for _, a := range x.Args {
			if err := checkCalls(a, path, depth); err != nil {
				return err
			}
		}
	case *armexpr.Property:
		return checkCalls(x.Target, path, depth)
	case *armexpr.Index:
		if err := checkCalls(x.Target, path, depth); err != nil {
			return err
		}
		return checkCalls(x.Index, path, depth)
	}
	return nil
}
