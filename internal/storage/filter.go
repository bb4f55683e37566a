package storage

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// maxFilterLen caps a $filter; the service allows at most 15 discrete
// comparisons, which fit well within it.
const maxFilterLen = 32 << 10

// maxComparisons is the number of comparisons a filter may hold.
const maxComparisons = 15

// expr is a node of a parsed $filter.
type expr interface{ String() string }

// binary is "left op right" for and/or and the comparisons.
type binary struct {
	Op          string // and, or, eq, ne, gt, ge, lt, le
	Left, Right expr
}

// not negates its operand.
type not struct{ X expr }

// propRef names an entity property.
type propRef struct{ Name string }

// literal is a typed constant.
type literal struct{ V Value }

func (b *binary) String() string {
	return "(" + b.Left.String() + " " + b.Op + " " + b.Right.String() + ")"
}
func (n *not) String() string { return "not " + n.X.String() }
func (p *propRef) String() string {
	return p.Name
}
func (l *literal) String() string {
	v := l.V
	switch v.Type {
	case EdmString:
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	case EdmInt64:
		return strconv.FormatInt(v.I, 10) + "L"
	case EdmInt32:
		return strconv.FormatInt(v.I, 10)
	case EdmDouble:
		s := strconv.FormatFloat(v.F, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s
	case EdmBoolean:
		return strconv.FormatBool(v.B)
	case EdmDateTime:
		return "datetime'" + formatDateTime(v.T) + "'"
	case EdmGuid:
		return "guid'" + v.S + "'"
	case EdmBinary:
		return "X'" + hex.EncodeToString(v.Bin) + "'"
	}
	return "null"
}

// filterError is a $filter the service cannot understand: a 400
// InvalidInput naming the position.
func filterError(pos int, format string, args ...any) *Error {
	return invalidInput("The $filter is invalid at position %d: %s.", pos, fmt.Sprintf(format, args...))
}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, '(' , ')', 'e' end, 't' typed literal
	text string
	pos  int
	lit  Value
}

type lexer struct {
	src  string
	pos  int
	toks []token
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		for l.pos < len(src) && (src[l.pos] == ' ' || src[l.pos] == '\t' || src[l.pos] == '\n' || src[l.pos] == '\r') {
			l.pos++
		}
		if l.pos >= len(src) {
			l.toks = append(l.toks, token{kind: 'e', pos: l.pos})
			return l.toks, nil
		}
		start := l.pos
		c := src[l.pos]
		switch {
		case c == '(' || c == ')':
			l.pos++
			l.toks = append(l.toks, token{kind: c, pos: start})
		case c == '\'':
			s, err := l.quoted()
			if err != nil {
				return nil, err
			}
			l.toks = append(l.toks, token{kind: 't', pos: start, lit: Value{Type: EdmString, S: s}})
		case c == '-' || c >= '0' && c <= '9':
			if err := l.number(); err != nil {
				return nil, err
			}
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			for l.pos < len(src) && (src[l.pos] == '_' || src[l.pos] >= 'a' && src[l.pos] <= 'z' || src[l.pos] >= 'A' && src[l.pos] <= 'Z' || src[l.pos] >= '0' && src[l.pos] <= '9' || src[l.pos] >= 0x80) {
				l.pos++
			}
			word := src[start:l.pos]
			if l.pos < len(src) && src[l.pos] == '\'' {
				v, err := l.typed(word, start)
				if err != nil {
					return nil, err
				}
				l.toks = append(l.toks, token{kind: 't', pos: start, lit: v})
				continue
			}
			switch word {
			case "true", "false":
				l.toks = append(l.toks, token{kind: 't', pos: start, lit: Value{Type: EdmBoolean, B: word == "true"}})
			default:
				l.toks = append(l.toks, token{kind: 'i', pos: start, text: word})
			}
		default:
			return nil, filterError(start, "unexpected character %q", c)
		}
	}
}

func (l *lexer) quoted() (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == '\'' {
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == '\'' {
				b.WriteByte('\'')
				l.pos += 2
				continue
			}
			l.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		l.pos++
	}
	return "", filterError(start, "unterminated string literal")
}

func (l *lexer) number() error {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.pos++
	}
	for l.pos < len(l.src) && (l.src[l.pos] >= '0' && l.src[l.pos] <= '9' || strings.IndexByte(".eE+-", l.src[l.pos]) >= 0) {
		if (l.src[l.pos] == '+' || l.src[l.pos] == '-') && !(l.src[l.pos-1] == 'e' || l.src[l.pos-1] == 'E') {
			break
		}
		l.pos++
	}
	text := l.src[start:l.pos]
	suffix := byte(0)
	if l.pos < len(l.src) && strings.IndexByte("LlDdMmFf", l.src[l.pos]) >= 0 {
		suffix = l.src[l.pos] | 0x20
		l.pos++
	}
	var v Value
	switch {
	case suffix == 'l':
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return filterError(start, "%q is not an Int64", text)
		}
		v = Value{Type: EdmInt64, I: i}
	case suffix != 0 || strings.ContainsAny(text, ".eE"):
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return filterError(start, "%q is not a number", text)
		}
		v = Value{Type: EdmDouble, F: f}
	default:
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return filterError(start, "%q is not a number", text)
		}
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			v = Value{Type: EdmInt32, I: i}
		} else {
			v = Value{Type: EdmInt64, I: i}
		}
	}
	l.toks = append(l.toks, token{kind: 't', pos: start, lit: v})
	return nil
}

// typed reads datetime'...', guid'...', X'...' and binary'...'.
func (l *lexer) typed(word string, start int) (Value, error) {
	s, err := l.quoted()
	if err != nil {
		return Value{}, err
	}
	switch strings.ToLower(word) {
	case "datetime":
		t, err := parseDateTime(s)
		if err != nil {
			return Value{}, filterError(start, "%s", err.Error())
		}
		return Value{Type: EdmDateTime, T: t}, nil
	case "guid":
		g, err := uuid.Parse(s)
		if err != nil {
			return Value{}, filterError(start, "%q is not a GUID", s)
		}
		return Value{Type: EdmGuid, S: g.String()}, nil
	case "x", "binary":
		b, err := hex.DecodeString(s)
		if err != nil {
			return Value{}, filterError(start, "%q is not hexadecimal", s)
		}
		return Value{Type: EdmBinary, Bin: b}, nil
	}
	return Value{}, filterError(start, "unknown literal type %q", word)
}

type parser struct {
	toks  []token
	i     int
	comps int
}

// parseFilter parses a $filter expression.
func parseFilter(src string) (e expr, err error) {
	if len(src) > maxFilterLen {
		return nil, invalidInput("The $filter is longer than %d bytes.", maxFilterLen)
	}
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, filterError(0, "the expression cannot be parsed")
		}
	}()
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err = p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 'e' {
		return nil, filterError(t.pos, "unexpected %s", describe(t))
	}
	return e, nil
}

func describe(t token) string {
	switch t.kind {
	case 'i':
		return "'" + clip(t.text) + "'"
	case 'e':
		return "end of input"
	case 't':
		return "literal"
	}
	return "'" + string(t.kind) + "'"
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) keyword(w string) bool {
	if t := p.peek(); t.kind == 'i' && t.text == w {
		p.i++
		return true
	}
	return false
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &binary{Op: "or", Left: l, Right: r}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &binary{Op: "and", Left: l, Right: r}
	}
	return l, nil
}

func (p *parser) unary() (expr, error) {
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &not{X: x}, nil
	}
	return p.comparison()
}

var comparisonOps = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true}

func (p *parser) comparison() (expr, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != 'i' || !comparisonOps[t.text] {
		if _, isGroup := l.(*binary); isGroup {
			return l, nil
		}
		if _, isNot := l.(*not); isNot {
			return l, nil
		}
		if pr, ok := l.(*propRef); ok {
			// A bare Boolean property: "IsActive" means "IsActive eq true".
			return &binary{Op: "eq", Left: pr, Right: &literal{V: Value{Type: EdmBoolean, B: true}}}, nil
		}
		return nil, filterError(t.pos, "expected a comparison operator, found %s", describe(t))
	}
	p.i++
	r, err := p.primary()
	if err != nil {
		return nil, err
	}
	_, lp := l.(*propRef)
	_, rp := r.(*propRef)
	_, ll := l.(*literal)
	_, rl := r.(*literal)
	if !(lp && rl || ll && rp) {
		return nil, filterError(t.pos, "a comparison must have a property on one side and a literal on the other")
	}
	p.comps++
	if p.comps > maxComparisons {
		return nil, invalidInput("The $filter has more than %d comparisons.", maxComparisons)
	}
	return &binary{Op: t.text, Left: l, Right: r}, nil
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	switch t.kind {
	case '(':
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != ')' {
			return nil, filterError(c.pos, "expected ')', found %s", describe(c))
		}
		return e, nil
	case 'i':
		if comparisonOps[t.text] || t.text == "and" || t.text == "or" {
			return nil, filterError(t.pos, "unexpected operator '%s'", t.text)
		}
		if t.text == "null" {
			return nil, filterError(t.pos, "null is not supported")
		}
		return &propRef{Name: t.text}, nil
	case 't':
		return &literal{V: t.lit}, nil
	}
	return nil, filterError(t.pos, "unexpected %s", describe(t))
}

// propSource is what a filter reads: an Entity, or a stored row whose
// properties are decoded only when the filter names them.
type propSource interface {
	Prop(name string) (Value, bool)
}

// match evaluates the filter on an entity. A comparison on a property the
// entity lacks, or of values of different types, is false.
func match(e expr, ent propSource) bool {
	switch x := e.(type) {
	case *binary:
		switch x.Op {
		case "and":
			return match(x.Left, ent) && match(x.Right, ent)
		case "or":
			return match(x.Left, ent) || match(x.Right, ent)
		}
		op, name, lit := normalize(x)
		v, ok := ent.Prop(name)
		if !ok {
			return false
		}
		c, ok := compare(v, lit)
		if !ok {
			return false
		}
		switch op {
		case "eq":
			return c == 0
		case "ne":
			return c != 0
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "lt":
			return c < 0
		case "le":
			return c <= 0
		}
	case *not:
		return !match(x.X, ent)
	}
	return false
}

// normalize puts the property on the left of a comparison, flipping the
// operator when the literal came first.
func normalize(b *binary) (op, name string, lit Value) {
	if p, ok := b.Left.(*propRef); ok {
		return b.Op, p.Name, b.Right.(*literal).V
	}
	flip := map[string]string{"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}
	return flip[b.Op], b.Right.(*propRef).Name, b.Left.(*literal).V
}

func isNumeric(t EdmType) bool { return t == EdmInt32 || t == EdmInt64 || t == EdmDouble }

// compare orders a property value against a literal; ok is false when
// they are of types the service does not compare.
func compare(v, lit Value) (int, bool) {
	if isNumeric(v.Type) && isNumeric(lit.Type) {
		if v.Type != EdmDouble && lit.Type != EdmDouble {
			return cmp3(v.I, lit.I), true
		}
		a, b := v.F, lit.F
		if v.Type != EdmDouble {
			a = float64(v.I)
		}
		if lit.Type != EdmDouble {
			b = float64(lit.I)
		}
		if math.IsNaN(a) || math.IsNaN(b) {
			return 0, false
		}
		switch {
		case a < b:
			return -1, true
		case a > b:
			return 1, true
		}
		return 0, true
	}
	if v.Type != lit.Type {
		return 0, false
	}
	switch v.Type {
	case EdmString:
		return strings.Compare(v.S, lit.S), true
	case EdmGuid:
		return strings.Compare(strings.ToLower(v.S), strings.ToLower(lit.S)), true
	case EdmBoolean:
		a, b := 0, 0
		if v.B {
			a = 1
		}
		if lit.B {
			b = 1
		}
		return a - b, true
	case EdmDateTime:
		return v.T.Compare(lit.T), true
	case EdmBinary:
		return strings.Compare(string(v.Bin), string(lit.Bin)), true
	}
	return 0, false
}

func cmp3(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keyRange is the part of a filter that becomes SQL: bounds on
// PartitionKey and RowKey implied by comparisons joined with "and" at the
// top of the expression. Empty bounds are open; Eq fixes a value.
type keyRange struct {
	PK, RK bounds
}

type bounds struct {
	Eq        *string
	Low, High *string // Low is >= (or > when LowExcl), High <= (or < when HighExcl)
	LowExcl   bool
	HighExcl  bool
}

// pushdown extracts the key bounds of e that every matching entity obeys.
func pushdown(e expr) keyRange {
	var kr keyRange
	var walk func(e expr)
	walk = func(e expr) {
		b, ok := e.(*binary)
		if !ok {
			return
		}
		if b.Op == "and" {
			walk(b.Left)
			walk(b.Right)
			return
		}
		if !comparisonOps[b.Op] || b.Op == "ne" {
			return
		}
		op, name, lit := normalize(b)
		if lit.Type != EdmString {
			return
		}
		var bd *bounds
		switch name {
		case "PartitionKey":
			bd = &kr.PK
		case "RowKey":
			bd = &kr.RK
		default:
			return
		}
		s := lit.S
		switch op {
		case "eq":
			bd.Eq = &s
		case "gt", "ge":
			if bd.Low == nil || s > *bd.Low {
				bd.Low, bd.LowExcl = &s, op == "gt"
			}
		case "lt", "le":
			if bd.High == nil || s < *bd.High {
				bd.High, bd.HighExcl = &s, op == "lt"
			}
		}
	}
	if e != nil {
		walk(e)
	}
	return kr
}
