package abac

import (
	"fmt"
	"strings"
)

// Limits on what Parse accepts. Azure does not document a maximum length;
// these bound the work an untrusted condition can cause.
const (
	// MaxConditionLength is the longest condition Parse accepts, in bytes.
	MaxConditionLength = 32 << 10
	// MaxNesting is the deepest nesting of parentheses and NOTs accepted.
	MaxNesting = 100
)

// SyntaxError is the error Parse returns: a message and the byte offset in
// the condition where the problem was found.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("condition syntax error at offset %d: %s", e.Pos, e.Msg)
}

// Parse parses a conditionVersion 2.0 condition. Three or more expressions
// joined by a mix of AND and OR must be grouped with parentheses, as the
// Azure documentation requires; such input is rejected rather than given an
// invented precedence.
func Parse(src string) (expr Expr, err error) {
	if len(src) > MaxConditionLength {
		return nil, &SyntaxError{Pos: MaxConditionLength, Msg: fmt.Sprintf("condition is longer than %d bytes", MaxConditionLength)}
	}
	defer func() {
		// The single recover point: a bug in the parser becomes a parse
		// error for this input instead of a crash of the caller.
		if r := recover(); r != nil {
			expr, err = nil, &SyntaxError{Pos: 0, Msg: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tokEOF {
		return nil, &SyntaxError{Pos: 0, Msg: "empty condition"}
	}
	e := p.parseExpr(0)
	if p.err == nil && p.peek().kind != tokEOF {
		p.failf(p.peek().pos, "unexpected %s after the end of the expression", describe(p.peek()))
	}
	if p.err != nil {
		return nil, p.err
	}
	return e, nil
}

type parser struct {
	toks []token
	i    int
	err  *SyntaxError
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// failf records the first error; later calls are ignored so the message
// describes the original problem.
func (p *parser) failf(pos int, format string, args ...any) {
	if p.err == nil {
		p.err = &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
}

func describe(t token) string {
	switch t.kind {
	case tokWord, tokAttr:
		return fmt.Sprintf("%q", t.val)
	case tokString:
		return fmt.Sprintf("string '%s'", t.val)
	}
	return t.kind.String()
}

// logicOp reports whether t is AND/&& or OR/||.
func logicOp(t token) (LogicOp, bool) {
	switch t.kind {
	case tokAnd:
		return And, true
	case tokOr:
		return Or, true
	case tokWord:
		switch strings.ToUpper(t.val) {
		case "AND":
			return And, true
		case "OR":
			return Or, true
		}
	}
	return 0, false
}

// parseExpr parses operands joined by one kind of logical operator,
// left-associatively.
func (p *parser) parseExpr(depth int) Expr {
	if depth > MaxNesting {
		p.failf(p.peek().pos, "nesting deeper than %d", MaxNesting)
		return nil
	}
	x := p.parseUnary(depth)
	var first *token
	for p.err == nil {
		t := p.peek()
		op, ok := logicOp(t)
		if !ok {
			break
		}
		if first == nil {
			first = &t
		} else if fop, _ := logicOp(*first); fop != op {
			p.failf(t.pos, "%s at offset %d and %s here are mixed without parentheses; group them, as in (a AND b) OR c", fop, first.pos, op)
			return nil
		}
		p.next()
		y := p.parseUnary(depth)
		x = &Binary{Op: op, Spelling: t.val, OpPos: t.pos, X: x, Y: y}
	}
	return x
}

func (p *parser) parseUnary(depth int) Expr {
	if depth > MaxNesting {
		p.failf(p.peek().pos, "nesting deeper than %d", MaxNesting)
		return nil
	}
	t := p.peek()
	if t.kind == tokNot || t.kind == tokWord && strings.EqualFold(t.val, "NOT") {
		p.next()
		x := p.parseUnary(depth + 1)
		return &Not{Spelling: t.val, NotPos: t.pos, X: x}
	}
	return p.parsePrimary(depth)
}

func (p *parser) parsePrimary(depth int) Expr {
	t := p.peek()
	switch {
	case t.kind == tokLParen:
		p.next()
		x := p.parseExpr(depth + 1)
		r := p.next()
		if p.err == nil && r.kind != tokRParen {
			p.failf(r.pos, "expected ')' to close '(' at offset %d, found %s", t.pos, describe(r))
		}
		return &Paren{Lparen: t.pos, Rparen: r.pos, X: x}
	case t.kind == tokWord && strings.EqualFold(t.val, "ActionMatches"):
		p.next()
		return &ActionMatches{FnPos: t.pos, Pattern: p.parseBracedString(t)}
	case t.kind == tokWord && strings.EqualFold(t.val, "SubOperationMatches"):
		p.next()
		return &SubOperationMatches{FnPos: t.pos, Pattern: p.parseBracedString(t)}
	case t.kind == tokWord && strings.EqualFold(t.val, "Exists"):
		p.next()
		a := p.next()
		if a.kind != tokAttr {
			p.failf(a.pos, "Exists takes an attribute such as @Resource[name], found %s", describe(a))
			return nil
		}
		return &Exists{FnPos: t.pos, Attr: p.attribute(a)}
	}
	return p.parseComparison()
}

// parseBracedString parses the {'text'} argument of ActionMatches and
// SubOperationMatches.
func (p *parser) parseBracedString(fn token) string {
	open, s, close := p.next(), p.next(), p.next()
	if open.kind != tokLBrace || s.kind != tokString || close.kind != tokRBrace {
		p.failf(fn.pos, "%s takes one quoted string in braces, as in %s{'Microsoft.Storage/*'}", fn.val, fn.val)
		return ""
	}
	return s.val
}

func (p *parser) parseComparison() Expr {
	left := p.parseOperand()
	if p.err != nil {
		return nil
	}
	opTok := p.next()
	if opTok.kind != tokWord {
		p.failf(opTok.pos, "expected a comparison operator after %s, found %s", left.String(), describe(opTok))
		return nil
	}
	op, err := lookupOperator(opTok.val)
	if err != nil {
		p.failf(opTok.pos, "%v", err)
		return nil
	}
	right := p.parseOperand()
	if p.err != nil {
		return nil
	}
	c := &Comparison{Left: left, Op: op, OpPos: opTok.pos, Right: right}
	for _, side := range []Operand{left, right} {
		p.checkOperand(c, side)
	}
	return c
}

// checkOperand validates literals against the operator's family and that
// single-value operators get single values.
func (p *parser) checkOperand(c *Comparison, o Operand) {
	var lits []*Literal
	switch o := o.(type) {
	case *Literal:
		lits = []*Literal{o}
	case *Set:
		lits = o.Elems
		if c.Op.Quantifier == None && len(o.Elems) != 1 {
			p.failf(o.Lbrace, "%s compares single values; use ForAnyOfAnyValues:%s (or another cross-product form) for a set", c.Op.Spelling, c.Op.Name)
			return
		}
	}
	for _, l := range lits {
		if err := checkLiteral(l, c.Op.Family); err != nil {
			p.failf(l.LitPos, "%s: %v", c.Op.Spelling, err)
			return
		}
	}
}

func (p *parser) parseOperand() Operand {
	t := p.next()
	switch t.kind {
	case tokAttr:
		return p.attribute(t)
	case tokString:
		return &Literal{LitPos: t.pos, Kind: LitString, Value: t.val}
	case tokWord:
		if _, ok := logicOp(t); ok || isKeyword(t.val) {
			p.failf(t.pos, "expected an attribute or a value, found %s", describe(t))
			return nil
		}
		return &Literal{LitPos: t.pos, Kind: LitWord, Value: t.val}
	case tokLBrace:
		s := &Set{Lbrace: t.pos}
		for p.err == nil {
			e := p.next()
			switch e.kind {
			case tokString:
				s.Elems = append(s.Elems, &Literal{LitPos: e.pos, Kind: LitString, Value: e.val})
			case tokWord:
				s.Elems = append(s.Elems, &Literal{LitPos: e.pos, Kind: LitWord, Value: e.val})
			default:
				p.failf(e.pos, "expected a value in the set opened at offset %d, found %s", t.pos, describe(e))
				return nil
			}
			sep := p.next()
			if sep.kind == tokRBrace {
				return s
			}
			if sep.kind != tokComma {
				p.failf(sep.pos, "expected ',' or '}' in the set opened at offset %d, found %s", t.pos, describe(sep))
				return nil
			}
		}
		return nil
	}
	p.failf(t.pos, "expected an attribute, a value or an expression, found %s", describe(t))
	return nil
}

func isKeyword(w string) bool {
	switch strings.ToLower(w) {
	case "not", "actionmatches", "suboperationmatches", "exists":
		return true
	}
	return false
}

// attribute splits an @Source[name] token.
func (p *parser) attribute(t token) *Attribute {
	open := strings.IndexByte(t.val, '[')
	src := t.val[1:open]
	name := t.val[open+1 : len(t.val)-1]
	a := &Attribute{AttrPos: t.pos, SourceSpelling: src, Name: name}
	switch strings.ToLower(src) {
	case "request":
		a.Source = Request
	case "resource":
		a.Source = Resource
	case "principal":
		a.Source = Principal
	case "environment":
		a.Source = Environment
	default:
		p.failf(t.pos, "unknown attribute source @%s (want @Request, @Resource, @Principal or @Environment)", src)
	}
	if strings.TrimSpace(name) == "" {
		p.failf(t.pos, "empty attribute name")
	}
	return a
}
