package policy

import (
	"fmt"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// ParseError is a malformed definition, set, assignment or rule. Path is
// the JSON path of the offending node, such as
// "$.properties.policyRule.if.allOf[2].equals".
type ParseError struct {
	Path    string
	Message string
}

// Error formats the path and message.
func (e *ParseError) Error() string { return e.Path + ": " + e.Message }

func perr(path, format string, args ...any) *ParseError {
	return &ParseError{Path: path, Message: fmt.Sprintf(format, args...)}
}

// Definition is a parsed policy definition.
type Definition struct {
	// ID and Name are the resource ID and name when the document had them.
	ID, Name    string
	DisplayName string
	Description string
	// PolicyType is BuiltIn, Custom or Static as written.
	PolicyType string
	// Mode is the mode as written ("All", "indexed",
	// "Microsoft.KeyVault.Data", ...); empty when absent.
	Mode string
	// Metadata is the definition's metadata object.
	Metadata map[string]any
	// Parameters are the declared parameters in declaration order.
	Parameters []*ParameterDef
	// Rule is the parsed policyRule.
	Rule *Rule

	rootPath string // JSON path of the policyRule
	src      SourceSum
}

// Rule is a parsed policyRule: its if condition and its then block.
type Rule struct {
	If   *Condition
	Then *Then
}

// Then is the then block of a rule.
type Then struct {
	// Effect is the effect as written; it may be an expression such as
	// "[parameters('effect')]".
	Effect string
	// Details is the details value as written, nil when absent.
	Details any
	// HasDetails reports whether details was present.
	HasDetails bool

	path string
}

// ParseDefinition parses a policy definition: a whole resource document
// ({"properties": {...}}), a bare properties object, or a bare policyRule
// ({"if": ..., "then": ...}). Key names are matched case-insensitively.
// Errors are *ParseError values carrying the JSON path of the bad node.
func ParseDefinition(data []byte) (d *Definition, err error) {
	defer recoverParse(&err)
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, &ParseError{Path: "$", Message: "invalid JSON: " + err.Error()}
	}
	d, err = definitionFromValue(doc, "$")
	if d != nil {
		d.src = sumOf(data)
	}
	return d, err
}

// definitionFromValue builds a definition from a decoded document.
func definitionFromValue(doc any, path string) (*Definition, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, perr(path, "a policy definition must be a JSON object, got %s", armexpr.TypeName(doc))
	}
	d := &Definition{}
	props := m
	propsPath := path
	if p, ok := armexpr.Lookup(m, "properties"); ok {
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, perr(path+".properties", "must be an object, got %s", armexpr.TypeName(p))
		}
		props, propsPath = pm, path+".properties"
		d.ID, d.Name = stringAt(m, "id"), stringAt(m, "name")
	}
	if _, hasIf := armexpr.Lookup(props, "if"); hasIf || isBareRule(props) {
		rule, err := parseRule(props, path)
		if err != nil {
			return nil, err
		}
		d.Rule, d.rootPath = rule, path
		return d, nil
	}
	d.DisplayName = stringAt(props, "displayName")
	d.Description = stringAt(props, "description")
	d.PolicyType = stringAt(props, "policyType")
	if mv, ok := armexpr.Lookup(props, "mode"); ok && mv != nil {
		s, ok := mv.(string)
		if !ok {
			return nil, perr(propsPath+".mode", "must be a string, got %s", armexpr.TypeName(mv))
		}
		d.Mode = s
	}
	if md, ok := armexpr.Lookup(props, "metadata"); ok {
		d.Metadata, _ = md.(map[string]any)
	}
	if pv, ok := armexpr.Lookup(props, "parameters"); ok && pv != nil {
		params, err := parseParameterDefs(pv, propsPath+".parameters")
		if err != nil {
			return nil, err
		}
		d.Parameters = params
	}
	rv, ok := armexpr.Lookup(props, "policyRule")
	if !ok {
		return nil, perr(propsPath, "policyRule is required")
	}
	d.rootPath = propsPath + ".policyRule"
	rule, err := parseRule(rv, d.rootPath)
	if err != nil {
		return nil, err
	}
	d.Rule = rule
	return d, nil
}

// isBareRule reports whether an object looks like a policyRule rather
// than a definition's properties: it has "then" and no "policyRule".
func isBareRule(m map[string]any) bool {
	_, hasThen := armexpr.Lookup(m, "then")
	_, hasRule := armexpr.Lookup(m, "policyRule")
	return hasThen && !hasRule
}

// ParseRule parses a bare policyRule ({"if": ..., "then": ...}).
func ParseRule(data []byte) (r *Rule, err error) {
	defer recoverParse(&err)
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, &ParseError{Path: "$", Message: "invalid JSON: " + err.Error()}
	}
	return parseRule(doc, "$")
}

func parseRule(v any, path string) (*Rule, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, perr(path, "policyRule must be an object, got %s", armexpr.TypeName(v))
	}
	var ifv, thenv any
	var hasIf, hasThen bool
	for k, e := range m {
		switch strings.ToLower(k) {
		case "if":
			ifv, hasIf = e, true
		case "then":
			thenv, hasThen = e, true
		default:
			return nil, perr(path+"."+k, "unknown key in policyRule (want if and then)")
		}
	}
	if !hasIf {
		return nil, perr(path, "policyRule has no if")
	}
	if !hasThen {
		return nil, perr(path, "policyRule has no then")
	}
	cond, err := parseCondition(ifv, path+".if", 0)
	if err != nil {
		return nil, err
	}
	then, err := parseThen(thenv, path+".then")
	if err != nil {
		return nil, err
	}
	return &Rule{If: cond, Then: then}, nil
}

func parseThen(v any, path string) (*Then, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, perr(path, "then must be an object, got %s", armexpr.TypeName(v))
	}
	t := &Then{path: path}
	var hasEffect bool
	for k, e := range m {
		switch strings.ToLower(k) {
		case "effect":
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return nil, perr(path+"."+k, "effect must be a non-empty string")
			}
			t.Effect, hasEffect = s, true
		case "details":
			t.Details, t.HasDetails = e, true
		}
	}
	if !hasEffect {
		return nil, perr(path, "then has no effect")
	}
	if isExpression(t.Effect) {
		if _, err := parseExpr(t.Effect); err != nil {
			return nil, perr(path+".effect", "%v", err)
		}
	}
	return t, nil
}

// envelope is a policy resource document split into its identity and
// its properties object (the document itself when it has no
// "properties").
type envelope struct {
	id, name string
	props    map[string]any
	path     string // JSON path of props
}

// parseEnvelope decodes a set, assignment or exemption document; what
// names the kind for errors.
func parseEnvelope(data []byte, what string) (*envelope, error) {
	doc, err := decodeJSON(data)
	if err != nil {
		return nil, &ParseError{Path: "$", Message: "invalid JSON: " + err.Error()}
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, perr("$", "%s must be a JSON object, got %s", what, armexpr.TypeName(doc))
	}
	env := &envelope{props: m, path: "$"}
	if p, ok := armexpr.Lookup(m, "properties"); ok {
		if env.props, ok = p.(map[string]any); !ok {
			return nil, perr("$.properties", "must be an object, got %s", armexpr.TypeName(p))
		}
		env.path = "$.properties"
		env.id, env.name = stringAt(m, "id"), stringAt(m, "name")
	}
	return env, nil
}

// recoverParse turns a panic inside a parser into a parse error: the one
// recover point of the package's parsers.
func recoverParse(err *error) {
	if r := recover(); r != nil {
		*err = &ParseError{Path: "$", Message: fmt.Sprintf("internal parser error: %v", r)}
	}
}
