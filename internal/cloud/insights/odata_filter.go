package insights

import (
	"strconv"
	"strings"
	"time"
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

func (b *Binary) Eval(r Row) bool {
	if b.Op == "and" {
		return b.Left.Eval(r) && b.Right.Eval(r)
	}
	return b.Left.Eval(r) || b.Right.Eval(r)
}

func (b *Binary) String() string {
	return "(" + b.Left.String() + " " + b.Op + " " + b.Right.String() + ")"
}

func (n *Not) Eval(r Row) bool { return !n.X.Eval(r) }

func (n *Not) String() string { return "not (" + n.X.String() + ")" }

func (c *Compare) Eval(r Row) bool {
	a, b := c.Left.value(r), c.Right.value(r)
	if a == nil || b == nil {
		switch c.Op {
		case "eq":
			return a == nil && b == nil || isEmpty(a) && isEmpty(b)
		case "ne":
			return !(a == nil && b == nil || isEmpty(a) && isEmpty(b))
		}
		return false
	}
	n, ok := compareValues(a, b)
	if !ok {
		return c.Op == "ne"
	}
	switch c.Op {
	case "eq":
		return n == 0
	case "ne":
		return n != 0
	case "gt":
		return n > 0
	case "ge":
		return n >= 0
	case "lt":
		return n < 0
	case "le":
		return n <= 0
	}
	return false
}

func (c *Compare) String() string { return c.Left.String() + " " + c.Op + " " + c.Right.String() }

func (in *In) Eval(r Row) bool {
	x := in.X.value(r)
	if in.Field != "" {
		v, _ := r.Get(in.Field)
		list, _ := v.([]string)
		for _, s := range list {
			if n, ok := compareValues(x, s); ok && n == 0 {
				return true
			}
		}
		return false
	}
	for _, o := range in.List {
		if n, ok := compareValues(x, o.value(r)); ok && n == 0 {
			return true
		}
	}
	return false
}

func (in *In) String() string {
	if in.Field != "" {
		return in.X.String() + " in " + in.Field
	}
	parts := make([]string, len(in.List))
	for i, o := range in.List {
		parts[i] = o.String()
	}
	return in.X.String() + " in (" + strings.Join(parts, ", ") + ")"
}

func (c *Call) Eval(r Row) bool {
	hay, needle := c.Args[0], c.Args[1]
	if c.Fn == "substringof" {
		hay, needle = needle, hay
	}
	h, ok1 := hay.value(r).(string)
	n, ok2 := needle.value(r).(string)
	if !ok1 || !ok2 {
		return false
	}
	h, n = strings.ToLower(h), strings.ToLower(n)
	switch c.Fn {
	case "startswith":
		return strings.HasPrefix(h, n)
	case "endswith":
		return strings.HasSuffix(h, n)
	}
	return strings.Contains(h, n)
}

func (c *Call) String() string {
	return c.Fn + "(" + c.Args[0].String() + ", " + c.Args[1].String() + ")"
}

func (o Operand) value(r Row) any {
	if o.Field == "" {
		return o.Lit
	}
	v, _ := r.Get(o.Field)
	return v
}

func (o Operand) String() string {
	if o.Field != "" {
		return o.Name
	}
	if s, ok := o.Lit.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return o.Raw
}

func isEmpty(v any) bool {
	s, ok := v.(string)
	return v == nil || ok && s == ""
}

// compareValues orders two values of compatible kinds. Strings compare
// case-insensitively (resource and policy IDs are case-insensitive, and
// Azure lower-cases many of them); a string compared with a time is parsed
// as a time.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
		case time.Time:
			if t, ok := parseTime(x); ok {
				return t.Compare(y), true
			}
		case bool:
			return compareValues(strings.EqualFold(x, "true"), y)
		}
	case time.Time:
		switch y := b.(type) {
		case time.Time:
			return x.Compare(y), true
		case string:
			if t, ok := parseTime(y); ok {
				return x.Compare(t), true
			}
		}
	case bool:
		switch y := b.(type) {
		case bool:
			if x == y {
				return 0, true
			}
			if !x {
				return -1, true
			}
			return 1, true
		case string:
			return compareValues(x, strings.EqualFold(y, "true"))
		}
	case float64:
		if y, ok := b.(float64); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
	case int:
		return compareValues(float64(x), b)
	}
	if y, ok := b.(int); ok {
		return compareValues(a, float64(y))
	}
	return 0, false
}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
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
