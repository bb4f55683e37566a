package armexpr

import (
	"fmt"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting of calls and accessors so that a deeply
// nested input is a parse error rather than a deep recursion.
const maxDepth = 512

// IsExpression reports whether s is a template expression: it starts with
// "[" and ends with "]", and does not start with "[[", which escapes a
// literal string beginning with "[".
func IsExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && s[1] != '['
}

// Parse parses a whole expression, brackets included, such as
// "[concat('a', field('name'))]". It returns an *Expr, or an *Error with
// code CodeParse and the byte offset of the problem.
func Parse(s string) (n Node, err error) {
	if len(s) > MaxExpressionSize {
		return nil, &Error{Code: CodeParse, Pos: MaxExpressionSize, Message: fmt.Sprintf("expression is longer than %d bytes", MaxExpressionSize)}
	}
	if !IsExpression(s) {
		return nil, &Error{Code: CodeParse, Pos: 0, Message: "an expression must start with '[' and end with ']'"}
	}
	p := &parser{lex: lexer{src: s[:len(s)-1], pos: 1}}
	defer func() {
		// The one recover point: a bug in the parser becomes a parse error
		// at the position reached, never a crash of the caller.
		if r := recover(); r != nil {
			n, err = nil, &Error{Code: CodeParse, Pos: p.tok.pos, Message: fmt.Sprintf("internal parser error: %v", r)}
		}
	}()
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, &Error{Code: CodeParse, Pos: p.tok.pos, Message: "the expression is empty"}
	}
	x, err := p.parseOperand(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("the end of the expression")
	}
	return &Expr{X: x}, nil
}

// parser is a recursive-descent parser with one token of look-ahead.
type parser struct {
	lex lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(want string) *Error {
	got := p.tok.kind.String()
	if p.tok.kind == tokIdent {
		got = fmt.Sprintf("identifier %q", p.tok.text)
	}
	return &Error{Code: CodeParse, Pos: p.tok.pos, Message: fmt.Sprintf("expected %s, found %s", want, got)}
}

func (p *parser) expect(k tokenKind) error {
	if p.tok.kind != k {
		return p.unexpected(k.String())
	}
	return p.advance()
}

// parseOperand parses a literal or call followed by any chain of
// ".name" and "[index]" accessors.
func (p *parser) parseOperand(depth int) (Node, error) {
	if depth > maxDepth {
		return nil, &Error{Code: CodeParse, Pos: p.tok.pos, Message: fmt.Sprintf("the expression is nested deeper than %d levels", maxDepth)}
	}
	x, err := p.parseAtom(depth)
	if err != nil {
		return nil, err
	}
	for {
		switch p.tok.kind {
		case tokDot:
			pos := p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tokIdent {
				return nil, p.unexpected("a property name after '.'")
			}
			x = &Property{Offset: pos, Target: x, Name: p.tok.text}
			if err := p.advance(); err != nil {
				return nil, err
			}
		case tokLBrack:
			pos := p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			idx, err := p.parseOperand(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := p.expect(tokRBrack); err != nil {
				return nil, err
			}
			x = &Index{Offset: pos, Target: x, Index: idx}
		default:
			return x, nil
		}
	}
}

func (p *parser) parseAtom(depth int) (Node, error) {
	t := p.tok
	switch t.kind {
	case tokString:
		return &StringLit{Offset: t.pos, Value: t.text, boxed: t.text}, p.advance()
	case tokInt:
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, &Error{Code: CodeParse, Pos: t.pos, Message: fmt.Sprintf("invalid integer %s", t.text)}
		}
		return &IntLit{Offset: t.pos, Value: v, boxed: v}, p.advance()
	case tokFloat:
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, &Error{Code: CodeParse, Pos: t.pos, Message: fmt.Sprintf("invalid number %s", t.text)}
		}
		return &FloatLit{Offset: t.pos, Value: v, boxed: v}, p.advance()
	case tokIdent:
		return p.parseCall(depth)
	}
	return nil, p.unexpected("a function call, string or number")
}

// parseCall parses name(args) where name may be namespace.name, the form
// of user-defined template functions.
func (p *parser) parseCall(depth int) (Node, error) {
	c := &FuncCall{Offset: p.tok.pos, Name: p.tok.text}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokDot {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokIdent {
			return nil, p.unexpected("a function name after the namespace")
		}
		c.Name += "." + p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.tok.kind != tokLParen {
		if lower := strings.ToLower(c.Name); lower == "true" || lower == "false" {
			return &BoolLit{Offset: c.Offset, Value: lower == "true"}, nil
		}
		return nil, p.unexpected(fmt.Sprintf("'(' after function name %q", c.Name))
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for p.tok.kind != tokRParen {
		if len(c.Args) > 0 {
			if p.tok.kind != tokComma {
				return nil, p.unexpected("',' or ')'")
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		a, err := p.parseOperand(depth + 1)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, a)
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	c.lower = strings.ToLower(c.Name)
	c.fn = lookupFunction(c.lower)
	return c, nil
}
