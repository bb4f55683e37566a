package kql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// hyphenated lists the operator names that contain a hyphen; the lexer reads
// them as one identifier, and every other a-b as a subtraction.
var hyphenated = map[string]bool{
	"project-away": true, "project-rename": true, "project-reorder": true, "project-keep": true,
	"mv-expand": true, "mv-apply": true, "make-series": true, "parse-kv": true, "parse-where": true,
	"top-nested": true, "top-hitters": true,
}

// typedLiteral lists the type names whose call form, such as datetime(...)
// or dynamic([...]), is a literal whose inside is read raw.
var typedLiteral = map[string]bool{
	"datetime": true, "date": true, "timespan": true, "time": true, "guid": true, "dynamic": true,
	"long": true, "int": true, "real": true, "double": true, "bool": true, "boolean": true, "decimal": true,
	"int64": true, "int32": true, "uniqueid": true,
}

// lexer turns query text into tokens. It works on the whole input at once;
// the parser caps the input size before lexing.
type lexer struct {
	src  string
	off  int
	line int
	col  int
	toks []token
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src, line: 1, col: 1}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks, nil
		}
	}
}

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

func (l *lexer) errf(p Pos, msg string) error { return &SyntaxError{Pos: p, Msg: msg} }

// advance moves over n bytes, keeping line and column current.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else if l.src[l.off]&0xC0 != 0x80 {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		default:
			return
		}
	}
}

func (l *lexer) next() (token, error) {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	switch {
	case c == '"' || c == '\'':
		return l.lexString(p, false)
	case (c == '@' || c == 'h' || c == 'H') && (l.peekByte(1) == '"' || l.peekByte(1) == '\''):
		l.advance(1)
		return l.lexString(p, c == '@')
	case (c == 'h' || c == 'H') && l.peekByte(1) == '@' && (l.peekByte(2) == '"' || l.peekByte(2) == '\''):
		l.advance(2)
		return l.lexString(p, true)
	case c == '`' && strings.HasPrefix(l.src[l.off:], "```"):
		end := strings.Index(l.src[l.off+3:], "```")
		if end < 0 {
			return token{}, l.errf(p, "unterminated ``` string")
		}
		s := l.src[l.off+3 : l.off+3+end]
		text := l.src[l.off : l.off+6+end]
		l.advance(6 + end)
		return token{kind: tString, text: text, val: s, pos: p}, nil
	case c >= '0' && c <= '9' || c == '.' && l.peekByte(1) >= '0' && l.peekByte(1) <= '9':
		return l.lexNumber(p)
	case isIdentStart(r) || c == '$':
		return l.lexIdent(p)
	case c == '!' && (isLetterByte(l.peekByte(1))):
		l.advance(1)
		t, err := l.lexIdent(p)
		t.text = "!" + t.text
		return t, err
	}
	for _, op := range []string{"==", "!=", "<>", "<=", ">=", "=~", "!~", "..", "=>"} {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance(2)
			return token{kind: tPunct, text: op, pos: p}, nil
		}
	}
	if strings.ContainsRune("|()[]{},;.=<>+-*/%:!@?~", r) {
		l.advance(1)
		return token{kind: tPunct, text: string(c), pos: p}, nil
	}
	return token{}, l.errf(p, "unexpected character "+strconvQuoteRune(r))
}

func isLetterByte(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

func strconvQuoteRune(r rune) string { return "'" + string(r) + "'" }

func (l *lexer) lexIdent(p Pos) (token, error) {
	start := l.off
	if l.src[l.off] == '$' {
		l.advance(1)
	}
	for l.off < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if !isIdentPart(r) {
			break
		}
		l.advance(n)
	}
	word := l.src[start:l.off]
	if word == "$" {
		return token{}, l.errf(p, "expected a name after '$'")
	}
	// operator names with a hyphen
	if l.peekByte(0) == '-' && isLetterByte(l.peekByte(1)) {
		j := l.off + 1
		for j < len(l.src) && (isLetterByte(l.src[j]) || l.src[j] == '_') {
			j++
		}
		if hyphenated[strings.ToLower(word+l.src[l.off:j])] {
			l.advance(j - l.off)
			word = l.src[start:l.off]
		}
	}
	if (word == "in" || word == "notin") && l.peekByte(0) == '~' {
		l.advance(1)
		word += "~"
	}
	if typedLiteral[strings.ToLower(word)] && l.peekByte(0) == '(' {
		open := l.pos()
		raw, err := l.readBalanced()
		if err != nil {
			return token{}, l.errf(open, err.Error())
		}
		return token{kind: tTyped, text: word, raw: raw, pos: p}, nil
	}
	return token{kind: tIdent, text: word, pos: p}, nil
}

// readBalanced consumes "( ... )" with nested brackets and quoted strings and
// returns the text between the outer parentheses.
func (l *lexer) readBalanced() (string, error) {
	depth := 0
	start := l.off + 1
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				raw := l.src[start:l.off]
				l.advance(1)
				return raw, nil
			}
		case '"', '\'':
			q := c
			l.advance(1)
			for l.off < len(l.src) && l.src[l.off] != q {
				if l.src[l.off] == '\\' {
					l.advance(1)
				}
				l.advance(1)
			}
			if l.off >= len(l.src) {
				return "", errUnterminated
			}
		}
		l.advance(1)
	}
	return "", errUnclosedParen
}

type lexErr string

func (e lexErr) Error() string { return string(e) }

const (
	errUnterminated  lexErr = "unterminated string literal"
	errUnclosedParen lexErr = "missing closing parenthesis"
)

func (l *lexer) lexString(p Pos, verbatim bool) (token, error) {
	start := p.Offset
	q := l.src[l.off]
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) || (l.src[l.off] == '\n' && !verbatim) {
			return token{}, l.errf(p, string(errUnterminated))
		}
		c := l.src[l.off]
		if c == q {
			if verbatim && l.peekByte(1) == q {
				b.WriteByte(q)
				l.advance(2)
				continue
			}
			l.advance(1)
			break
		}
		if c == '\\' && !verbatim {
			e := l.peekByte(1)
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'u':
				if l.off+6 <= len(l.src) {
					var v rune
					ok := true
					for _, h := range l.src[l.off+2 : l.off+6] {
						d := hexVal(byte(h))
						if d < 0 {
							ok = false
							break
						}
						v = v*16 + rune(d)
					}
					if ok {
						b.WriteRune(v)
						l.advance(6)
						continue
					}
				}
				return token{}, l.errf(l.pos(), "bad \\u escape")
			default:
				return token{}, l.errf(l.pos(), "unknown escape sequence")
			}
			l.advance(2)
			continue
		}
		b.WriteByte(c)
		l.advance(1)
	}
	return token{kind: tString, text: l.src[start:l.off], val: b.String(), pos: p}, nil
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func (l *lexer) lexNumber(p Pos) (token, error) {
	start := l.off
	kind := tInt
	if l.src[l.off] == '0' && (l.peekByte(1) == 'x' || l.peekByte(1) == 'X') {
		l.advance(2)
		for hexVal(l.peekByte(0)) >= 0 {
			l.advance(1)
		}
		return token{kind: tInt, text: l.src[start:l.off], pos: p}, nil
	}
	digits := func() {
		for c := l.peekByte(0); c >= '0' && c <= '9'; c = l.peekByte(0) {
			l.advance(1)
		}
	}
	digits()
	if l.peekByte(0) == '.' && l.peekByte(1) != '.' {
		kind = tReal
		l.advance(1)
		digits()
	}
	if c := l.peekByte(0); c == 'e' || c == 'E' {
		n := 1
		if s := l.peekByte(1); s == '+' || s == '-' {
			n = 2
		}
		if d := l.peekByte(n); d >= '0' && d <= '9' {
			kind = tReal
			l.advance(n)
			digits()
		}
	}
	num := l.src[start:l.off]
	if isLetterByte(l.peekByte(0)) {
		us := l.off
		for isLetterByte(l.peekByte(0)) {
			l.advance(1)
		}
		unit := strings.ToLower(l.src[us:l.off])
		if _, ok := timespanUnits[unit]; !ok {
			return token{}, l.errf(p, "unknown number suffix "+unit)
		}
		return token{kind: tTimespan, text: l.src[start:l.off], val: num, raw: unit, pos: p}, nil
	}
	return token{kind: kind, text: num, pos: p}, nil
}

// timespanUnits maps a timespan literal suffix to its length in ticks.
var timespanUnits = map[string]int64{
	"d": ticksPerDay, "day": ticksPerDay, "days": ticksPerDay,
	"h": ticksPerHour, "hr": ticksPerHour, "hrs": ticksPerHour, "hour": ticksPerHour, "hours": ticksPerHour,
	"m": ticksPerMinute, "min": ticksPerMinute, "minute": ticksPerMinute, "minutes": ticksPerMinute,
	"s": ticksPerSecond, "sec": ticksPerSecond, "second": ticksPerSecond, "seconds": ticksPerSecond,
	"ms": ticksPerMilli, "milli": ticksPerMilli, "millis": ticksPerMilli, "millisecond": ticksPerMilli, "milliseconds": ticksPerMilli,
	"microsecond": 10, "microseconds": 10, "tick": 1, "ticks": 1,
}
