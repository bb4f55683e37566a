package armexpr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a token of the expression language.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokInt
	tokFloat
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokComma
	tokDot
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of expression"
	case tokIdent:
		return "identifier"
	case tokString:
		return "string"
	case tokInt, tokFloat:
		return "number"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokLBrack:
		return "'['"
	case tokRBrack:
		return "']'"
	case tokComma:
		return "','"
	case tokDot:
		return "'.'"
	}
	return "token"
}

// token is one lexeme. text is the identifier, the unescaped string or the
// number's source text.
type token struct {
	kind tokenKind
	pos  int
	text string
}

// lexer turns the source between the brackets into tokens on demand.
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isIdentStart(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool { return isIdentStart(r) || unicode.IsDigit(r) }

// skipSpace skips white space, including Unicode spaces such as U+202F,
// which built-in policies contain and ARM accepts (.NET's IsWhiteSpace).
func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c < utf8.RuneSelf {
			if !isSpace(c) {
				return
			}
			l.pos++
			continue
		}
		r, size := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		l.pos += size
	}
}

// punct returns the kind of a one-byte punctuation token, or tokEOF.
func punct(c byte) tokenKind {
	switch c {
	case '(':
		return tokLParen
	case ')':
		return tokRParen
	case '[':
		return tokLBrack
	case ']':
		return tokRBrack
	case ',':
		return tokComma
	case '.':
		return tokDot
	}
	return tokEOF
}

// next returns the next token, or an error for a malformed one.
func (l *lexer) next() (token, error) {
	l.skipSpace()
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	if k := punct(c); k != tokEOF {
		l.pos++
		return token{kind: k, pos: start}, nil
	}
	switch {
	case c == '\'':
		return l.lexString()
	case c == '-' || (c >= '0' && c <= '9'):
		return l.lexNumber()
	}
	r, size := utf8.DecodeRuneInString(l.src[l.pos:])
	if !isIdentStart(r) {
		return token{}, &Error{Code: CodeParse, Pos: start, Message: fmt.Sprintf("unexpected character %q", r)}
	}
	l.pos += size
	for l.pos < len(l.src) {
		r, size = utf8.DecodeRuneInString(l.src[l.pos:])
		if !isIdentPart(r) {
			break
		}
		l.pos += size
	}
	return token{kind: tokIdent, pos: start, text: l.src[start:l.pos]}, nil
}

// lexString reads a single-quoted string in which ” stands for one quote.
func (l *lexer) lexString() (token, error) {
	start := l.pos
	l.pos++ // opening quote
	var b strings.Builder
	seg := l.pos
	for l.pos < len(l.src) {
		if l.src[l.pos] != '\'' {
			l.pos++
			continue
		}
		if l.pos+1 < len(l.src) && l.src[l.pos+1] == '\'' {
			b.WriteString(l.src[seg : l.pos+1])
			l.pos += 2
			seg = l.pos
			continue
		}
		text := l.src[seg:l.pos]
		if b.Len() > 0 {
			b.WriteString(text)
			text = b.String()
		}
		l.pos++ // closing quote
		return token{kind: tokString, pos: start, text: text}, nil
	}
	return token{}, &Error{Code: CodeParse, Pos: start, Message: "unterminated string literal"}
}

// lexNumber reads an optionally negative integer or decimal number.
func (l *lexer) lexNumber() (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.pos++
	}
	digits := func() int {
		n := 0
		for l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
			l.pos++
			n++
		}
		return n
	}
	if digits() == 0 {
		return token{}, &Error{Code: CodeParse, Pos: start, Message: "expected a digit after '-'"}
	}
	kind := tokInt
	if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9' {
		l.pos++
		digits()
		kind = tokFloat
	}
	text := l.src[start:l.pos]
	if kind == tokInt {
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			return token{}, &Error{Code: CodeParse, Pos: start, Message: fmt.Sprintf("integer %s is out of range", text)}
		}
	}
	return token{kind: kind, pos: start, text: text}, nil
}
