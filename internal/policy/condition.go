package policy

import (
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// MaxConditionDepth caps the nesting of conditions (Azure's authoring
// limit is 64); deeper input is a parse error, not a stack overflow.
const MaxConditionDepth = 128

// CondKind says what a Condition node is.
type CondKind uint8

// The kinds of condition nodes.
const (
	CondAllOf CondKind = iota + 1
	CondAnyOf
	CondNot
	CondField
	CondValue
	CondCount
)

// Operator is a condition operator.
type Operator uint8

// The condition operators.
const (
	OpEquals Operator = iota + 1
	OpNotEquals
	OpLike
	OpNotLike
	OpMatch
	OpMatchInsensitively
	OpNotMatch
	OpNotMatchInsensitively
	OpContains
	OpNotContains
	OpIn
	OpNotIn
	OpContainsKey
	OpNotContainsKey
	OpLess
	OpLessOrEquals
	OpGreater
	OpGreaterOrEquals
	OpExists
)

var operatorNames = [...]string{
	OpEquals: "equals", OpNotEquals: "notEquals", OpLike: "like", OpNotLike: "notLike",
	OpMatch: "match", OpMatchInsensitively: "matchInsensitively", OpNotMatch: "notMatch",
	OpNotMatchInsensitively: "notMatchInsensitively", OpContains: "contains",
	OpNotContains: "notContains", OpIn: "in", OpNotIn: "notIn", OpContainsKey: "containsKey",
	OpNotContainsKey: "notContainsKey", OpLess: "less", OpLessOrEquals: "lessOrEquals",
	OpGreater: "greater", OpGreaterOrEquals: "greaterOrEquals", OpExists: "exists",
}

var operatorsByLower = func() map[string]Operator {
	m := make(map[string]Operator, len(operatorNames))
	for op, n := range operatorNames {
		if n != "" {
			m[strings.ToLower(n)] = Operator(op)
		}
	}
	return m
}()

// String returns the operator's name as the documentation spells it.
func (o Operator) String() string {
	if int(o) < len(operatorNames) && operatorNames[o] != "" {
		return operatorNames[o]
	}
	return "unknown"
}

// Condition is a node of a parsed policy rule condition.
type Condition struct {
	Kind CondKind
	// Path is the JSON path of the node.
	Path string
	// Children are the operands of allOf and anyOf; Not has one child.
	Children []*Condition
	// Field is the field of a field condition (an alias, a built-in field
	// or an expression).
	Field string
	// Value is the left-hand side of a value condition.
	Value any
	// Count is the count expression of a count condition.
	Count *Count
	// Op and Operand are the operator and its right-hand side.
	Op      Operator
	Operand any
}

// Count is the left-hand side of a count condition.
type Count struct {
	// Field is the [*] alias of a field count; empty for a value count.
	Field string
	// Value is the array (or expression) of a value count.
	Value    any
	HasValue bool
	// Name is the iteration name of a value count ("" when not given).
	Name string
	// Where filters the members counted; nil counts every member.
	Where *Condition
	Path  string
}

func parseCondition(v any, path string, depth int) (*Condition, error) {
	if depth > MaxConditionDepth {
		return nil, perr(path, "conditions are nested more than %d deep", MaxConditionDepth)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, perr(path, "a condition must be an object, got %s", armexpr.TypeName(v))
	}
	if len(m) == 0 {
		return nil, perr(path, "empty condition")
	}
	c := &Condition{Path: path}
	var lhs, op []string
	for k := range m {
		lk := strings.ToLower(k)
		switch lk {
		case "allof", "anyof", "not":
			if len(m) != 1 {
				return nil, perr(path, "%s must be the only key of its condition", k)
			}
			return parseLogical(lk, m[k], path+"."+k, depth)
		case "field", "value", "count":
			lhs = append(lhs, k)
		default:
			if _, ok := operatorsByLower[lk]; !ok {
				return nil, perr(path+"."+k, "unknown key %q in condition", k)
			}
			op = append(op, k)
		}
	}
	if len(lhs) != 1 {
		if len(lhs) == 0 {
			return nil, perr(path, "condition needs one of field, value or count")
		}
		return nil, perr(path, "condition has both %s and %s", lhs[0], lhs[1])
	}
	if len(op) != 1 {
		if len(op) == 0 {
			return nil, perr(path, "condition has no operator")
		}
		return nil, perr(path, "condition has two operators, %s and %s", op[0], op[1])
	}
	c.Op = operatorsByLower[strings.ToLower(op[0])]
	c.Operand = m[op[0]]
	if err := checkOperand(c.Op, c.Operand, path+"."+op[0]); err != nil {
		return nil, err
	}
	lv := m[lhs[0]]
	switch strings.ToLower(lhs[0]) {
	case "field":
		s, ok := lv.(string)
		if !ok || s == "" {
			return nil, perr(path+"."+lhs[0], "field must be a non-empty string")
		}
		if isExpression(s) {
			if _, err := parseExpr(s); err != nil {
				return nil, perr(path+"."+lhs[0], "%v", err)
			}
		}
		c.Kind, c.Field = CondField, s
	case "value":
		if err := checkExpressions(lv, path+"."+lhs[0]); err != nil {
			return nil, err
		}
		c.Kind, c.Value = CondValue, lv
	case "count":
		cnt, err := parseCount(lv, path+"."+lhs[0], depth)
		if err != nil {
			return nil, err
		}
		c.Kind, c.Count = CondCount, cnt
	}
	return c, nil
}

func parseLogical(kind string, v any, path string, depth int) (*Condition, error) {
	c := &Condition{Path: path[:strings.LastIndexByte(path, '.')]}
	if kind == "not" {
		child, err := parseCondition(v, path, depth+1)
		if err != nil {
			return nil, err
		}
		c.Kind, c.Children = CondNot, []*Condition{child}
		return c, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, perr(path, "%s must be an array of conditions, got %s", kind, armexpr.TypeName(v))
	}
	c.Kind = CondAllOf
	if kind == "anyof" {
		c.Kind = CondAnyOf
	}
	c.Children = make([]*Condition, len(list))
	for i, e := range list {
		child, err := parseCondition(e, path+"["+itoa(i)+"]", depth+1)
		if err != nil {
			return nil, err
		}
		c.Children[i] = child
	}
	return c, nil
}

func parseCount(v any, path string, depth int) (*Count, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, perr(path, "count must be an object, got %s", armexpr.TypeName(v))
	}
	cnt := &Count{Path: path}
	var hasField, hasName bool
	for k, e := range m {
		switch strings.ToLower(k) {
		case "field":
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, perr(path+"."+k, "count.field must be a non-empty string")
			}
			cnt.Field, hasField = s, true
		case "value":
			if err := checkExpressions(e, path+"."+k); err != nil {
				return nil, err
			}
			cnt.Value, cnt.HasValue = e, true
		case "name":
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, perr(path+"."+k, "count.name must be a non-empty string")
			}
			cnt.Name, hasName = s, true
		case "where":
			w, err := parseCondition(e, path+"."+k, depth+1)
			if err != nil {
				return nil, err
			}
			cnt.Where = w
		default:
			return nil, perr(path+"."+k, "unknown key %q in count", k)
		}
	}
	switch {
	case hasField && cnt.HasValue:
		return nil, perr(path, "count has both field and value")
	case !hasField && !cnt.HasValue:
		return nil, perr(path, "count needs field or value")
	case hasField && hasName:
		return nil, perr(path+".name", "count.name is only allowed with count.value")
	}
	if hasField && !strings.Contains(cnt.Field, "[*]") && !isExpression(cnt.Field) {
		return nil, perr(path+".field", "count.field must be an array alias ending in [*], got %q", cnt.Field)
	}
	return cnt, nil
}

// checkOperand validates an operator's right-hand side where its shape is
// fixed regardless of expressions.
func checkOperand(op Operator, v any, path string) error {
	if err := checkExpressions(v, path); err != nil {
		return err
	}
	switch op {
	case OpExists:
		switch x := v.(type) {
		case bool:
			return nil
		case string:
			if strings.EqualFold(x, "true") || strings.EqualFold(x, "false") || isExpression(x) {
				return nil
			}
		}
		return perr(path, "exists takes true or false, got %s", formatValue(v))
	case OpLike, OpNotLike, OpMatch, OpNotMatch, OpMatchInsensitively, OpNotMatchInsensitively:
		if _, ok := v.(string); !ok {
			return perr(path, "%s takes a string pattern, got %s", op, armexpr.TypeName(v))
		}
	}
	return nil
}

// checkExpressions parses every expression string in a value so bad
// expressions are parse errors with their path.
func checkExpressions(v any, path string) error {
	switch x := v.(type) {
	case string:
		if isExpression(x) {
			if _, err := parseExpr(x); err != nil {
				return perr(path, "%v", err)
			}
		}
	case []any:
		for i, e := range x {
			if err := checkExpressions(e, path+"["+itoa(i)+"]"); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if err := checkExpressions(e, path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
