package insights

import (
	"strconv"
	"strings"
)

// Expr is a parsed $filter expression. String renders it back in a form
// that parses to the same tree.
type Expr interface {
	Eval(r Row) bool
	String() string
}

// Binary is "a and b" or "a or b".
type Binary struct {
	Op          string // "and", "or"
	Left, Right Expr
}

// Not is "not a".
type Not struct{ X Expr }

// Compare is "operand op operand" with op one of eq, ne, gt, ge, lt, le.
type Compare struct {
	Op          string
	Left, Right Operand
}

// In is "operand in (v1, v2, ...)", or "'v' in CollectionField" (the form
// summarize writes for policyDefinitionGroupNames).
type In struct {
	X    Operand
	List []Operand
	// Field is set for "'v' in Field": a collection property.
	Field string
}

// Call is a string function: startswith, endswith, contains(field, 'v') or
// substringof('v', field).
type Call struct {
	Fn   string
	Args []Operand
}

// Operand is a property reference or a literal.
type Operand struct {
	Field string // lower-case property name, or "" for a literal
	Name  string // the property as written
	Lit   any    // string, float64, bool, time.Time or nil
	Raw   string // the literal as written
}

// ParseFilter parses a $filter expression over policy-state properties.
// It never panics; malformed input is a *SyntaxError.
func ParseFilter(s string) (e Expr, err error) {
	return parseFilterParam("$filter", s, stateFields)
}

// parseFilterParam parses a filter whose properties are those of known
// (lower-case name -> spelling); nil accepts any property name.
func parseFilterParam(param, s string, known map[string]string) (e Expr, err error) {
	defer guard(param, &err)
	toks, err := lex(param, s)
	if err != nil {
		return nil, err
	}
	p := &parser{param: param, toks: toks}
	if p.peek().kind == tokEOF {
		return nil, p.errorf(0, "the expression is empty")
	}
	e, err = p.parseOr(known)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t.pos, "unexpected %s", describe(t))
	}
	return e, nil
}

func (p *parser) parseOr(known map[string]string) (Expr, error) {
	left, err := p.parseAnd(known)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.parseAnd(known)
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: "or", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd(known map[string]string) (Expr, error) {
	left, err := p.parseUnary(known)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.parseUnary(known)
		if err != nil {
			return nil, err
		}
		left = &Binary{Op: "and", Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseUnary(known map[string]string) (Expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errorf(p.peek().pos, "the expression nests deeper than %d levels", maxDepth)
	}
	if p.keyword("not") {
		x, err := p.parseUnary(known)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	t := p.peek()
	if t.kind == tokLParen {
		p.next()
		x, err := p.parseOr(known)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return x, nil
	}
	if t.kind == tokIdent && p.toks[p.i+1].kind == tokLParen {
		return p.parseCall(known)
	}
	left, err := p.parseOperand(known)
	if err != nil {
		return nil, err
	}
	opTok := p.next()
	op := strings.ToLower(opTok.text)
	if opTok.kind != tokIdent {
		return nil, p.errorf(opTok.pos, "expected a comparison operator, found %s", describe(opTok))
	}
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
		right, err := p.parseOperand(known)
		if err != nil {
			return nil, err
		}
		return &Compare{Op: op, Left: left, Right: right}, nil
	case "in":
		return p.parseIn(left, known)
	}
	return nil, p.errorf(opTok.pos, "unknown operator %s", describe(opTok))
}

func (p *parser) parseIn(x Operand, known map[string]string) (Expr, error) {
	if p.peek().kind != tokLParen {
		f, err := p.parseOperand(known)
		if err != nil {
			return nil, err
		}
		if f.Field == "" {
			return nil, p.errorf(p.peek().pos, "'in' needs a list or a collection property")
		}
		return &In{X: x, Field: f.Field}, nil
	}
	p.next()
	var list []Operand
	for {
		o, err := p.parseOperand(known)
		if err != nil {
			return nil, err
		}
		list = append(list, o)
		t := p.next()
		if t.kind == tokRParen {
			return &In{X: x, List: list}, nil
		}
		if t.kind != tokComma {
			return nil, p.errorf(t.pos, "expected ',' or ')', found %s", describe(t))
		}
	}
}

func (p *parser) parseCall(known map[string]string) (Expr, error) {
	t := p.next()
	fn := strings.ToLower(t.text)
	switch fn {
	case "startswith", "endswith", "contains", "substringof":
	default:
		return nil, p.errorf(t.pos, "unknown function %s", describe(t))
	}
	p.next() // (
	a, err := p.parseOperand(known)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokComma, "','"); err != nil {
		return nil, err
	}
	b, err := p.parseOperand(known)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen, "')'"); err != nil {
		return nil, err
	}
	return &Call{Fn: fn, Args: []Operand{a, b}}, nil
}

// parseOperand reads a property name or a literal: 'string', number, true,
// false, null, or an unquoted datetime.
func (p *parser) parseOperand(known map[string]string) (Operand, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return Operand{Lit: t.text, Raw: t.text}, nil
	case tokNumber:
		if tm, ok := parseTime(t.text); ok && strings.Contains(t.text, "-") && len(t.text) >= 10 {
			return Operand{Lit: tm, Raw: t.text}, nil
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return Operand{}, p.errorf(t.pos, "malformed number %s", describe(t))
		}
		return Operand{Lit: f, Raw: t.text}, nil
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return Operand{Lit: true, Raw: "true"}, nil
		case "false":
			return Operand{Lit: false, Raw: "false"}, nil
		case "null":
			return Operand{Raw: "null"}, nil
		}
		if strings.HasPrefix(strings.ToLower(t.text), "datetime") {
			return Operand{}, p.errorf(t.pos, "write datetimes unquoted or as strings")
		}
		name := strings.ToLower(t.text)
		if known != nil {
			if _, ok := known[name]; !ok {
				return Operand{}, p.errorf(t.pos, "unknown property %s", describe(t))
			}
		}
		return Operand{Field: name, Name: t.text}, nil
	}
	return Operand{}, p.errorf(t.pos, "expected a property or a value, found %s", describe(t))
}
