package insights

import (
	"fmt"
	"strings"
	"unicode"
)

// MaxQueryLen caps every OData parameter ($filter, $apply, $select,
// $orderby): longer input is refused before it is parsed.
const MaxQueryLen = 8 << 10

// maxDepth caps the nesting of parentheses and not.
const maxDepth = 64

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokLParen
	tokRParen
	tokComma
	tokSlash
)

type token struct {
	kind tokKind
	text string // the identifier, the unquoted string, the number
	pos  int
}

// SyntaxError is a malformed OData expression: what is wrong and where.
type SyntaxError struct {
	Param string // $filter, $apply, ...
	Pos   int
	Msg   string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: %s at position %d", e.Param, e.Msg, e.Pos)
}

// lex splits an expression into tokens. Identifiers may contain letters,
// digits, '_', '.', ':', '-' and '+' (so that unquoted datetimes such as
// 2019-10-05T18:00:00Z lex as one word) and may start with '$'.
func lex(param, s string) ([]token, error) {
	if len(s) > MaxQueryLen {
		return nil, &SyntaxError{Param: param, Pos: MaxQueryLen, Msg: fmt.Sprintf("the expression is longer than %d bytes", MaxQueryLen)}
	}
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == ',':
			out = append(out, token{tokComma, ",", i})
			i++
		case c == '/':
			out = append(out, token{tokSlash, "/", i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, &SyntaxError{Param: param, Pos: i, Msg: "unterminated string literal"}
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' { // '' is an escaped quote
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{tokString, b.String(), i})
			i = j + 1
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{tokNumber, s[i:j], i})
			i = j
		case c == '$' || c == '_' || c < 0x80 && unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{tokIdent, s[i:j], i})
			i = j
		default:
			return nil, &SyntaxError{Param: param, Pos: i, Msg: fmt.Sprintf("unexpected character %q", rune(c))}
		}
	}
	return append(out, token{tokEOF, "", len(s)}), nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == ':' || c == '-' || c == '+' || c >= '0' && c <= '9' ||
		c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parser walks a token list.
type parser struct {
	param string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Param: p.param, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.errorf(t.pos, "expected %s, found %s", what, describe(t))
	}
	return t, nil
}

// keyword reports whether the next token is the identifier kw (any case)
// and consumes it when it is.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tokIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString:
		return fmt.Sprintf("'%s'", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// guard turns a panic into a syntax error: the one recover point of the
// OData parsers.
func guard(param string, err *error) {
	if r := recover(); r != nil {
		*err = &SyntaxError{Param: param, Msg: fmt.Sprint("malformed expression: ", r)}
	}
}
