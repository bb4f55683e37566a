package kql

import (
	"fmt"
	"strings"
)

// MaxQueryBytes caps the size of a query the parser accepts; Kusto's own
// limit is far larger, but governance queries are short and the cap keeps
// hostile input cheap.
const MaxQueryBytes = 256 << 10

// maxDepth caps expression nesting so that deep input fails with a syntax
// error instead of exhausting the stack.
const maxDepth = 200

// parser is a recursive-descent parser over the token slice. Errors are
// raised by panicking with a *SyntaxError and turned into a return value at
// the single recover point in Parse.
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	// search is set while parsing a search predicate, where col:"term"
	// is allowed
	search bool
}

// Parse parses a query (let statements and one tabular expression).
func Parse(src string) (q *Query, err error) {
	if len(src) > MaxQueryBytes {
		return nil, &SyntaxError{Pos: Pos{Line: 1, Col: 1}, Msg: fmt.Sprintf("query is %d bytes, more than the %d allowed", len(src), MaxQueryBytes)}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	defer func() {
		if r := recover(); r != nil {
			if se, ok := r.(*SyntaxError); ok {
				q, err = nil, se
				return
			}
			q, err = nil, &SyntaxError{Pos: p.peek().pos, Msg: fmt.Sprint("unparsable query: ", r)}
		}
	}()
	return p.parseQuery(), nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(t token, format string, args ...any) {
	panic(&SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == w
}

func (p *parser) acceptPunct(s string) bool {
	if p.isPunct(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptWord(w string) bool {
	if p.isWord(w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) token {
	if !p.isPunct(s) {
		p.fail(p.peek(), "expected '%s', found %s", s, p.peek())
	}
	return p.next()
}

func (p *parser) expectWord(w string) token {
	if !p.isWord(w) {
		p.fail(p.peek(), "expected '%s', found %s", w, p.peek())
	}
	return p.next()
}

// expectName reads an identifier or a bracketed ['name'].
func (p *parser) expectName() (string, Pos) {
	t := p.peek()
	if t.kind == tIdent {
		p.i++
		return t.text, t.pos
	}
	if t.kind == tPunct && t.text == "[" && p.peekAt(1).kind == tString && p.peekAt(2).text == "]" {
		p.i += 3
		return p.toks[p.i-2].val, t.pos
	}
	p.fail(t, "expected a name, found %s", t)
	return "", t.pos
}

func (p *parser) isName() bool {
	t := p.peek()
	return t.kind == tIdent || t.kind == tPunct && t.text == "[" && p.peekAt(1).kind == tString && p.peekAt(2).text == "]"
}

// parseTabOrExpr parses either a tabular expression (returned as a
// *SubQuery) or a scalar expression.
func (p *parser) parseTabOrExpr() Expr {
	t := p.peek()
	var pl *Pipeline
	if t.kind == tIdent {
		switch {
		case t.text == "datatable" && p.peekAt(1).text == "(":
			pl = &Pipeline{Source: p.parseDatatable()}
		case t.text == "print":
			p.next()
			pl = &Pipeline{Source: &Print{At: t.pos, Items: p.parseAssignList(true)}}
		case t.text == "range" && p.peekAt(2).text == "from":
			pl = &Pipeline{Source: p.parseRange()}
		case t.text == "union" && p.peekAt(1).text != "(":
			pl = &Pipeline{Source: p.parseUnion()}
		case t.text == "externaldata" && (p.peekAt(1).text == "(" || p.peekAt(1).kind == tIdent):
			p.fail(t, "externaldata is not supported: queries read only the workspace's tables")
		case t.text == "find" && (p.peekAt(1).kind == tString || p.peekAt(1).kind == tIdent && p.peekAt(1).text != "("):
			p.fail(t, "the find operator is not supported: use union of the tables, then where")
		}
	}
	if pl == nil {
		x := p.parseExpr()
		if !p.isPunct("|") {
			return x
		}
		if sq, ok := x.(*SubQuery); ok {
			pl = &Pipeline{Source: &ExprSource{X: sq}}
		} else {
			pl = &Pipeline{Source: &ExprSource{X: x}}
		}
	}
	for p.acceptPunct("|") {
		pl.Ops = append(pl.Ops, p.parseOp())
	}
	return &SubQuery{At: t.pos, Q: pl}
}

func (p *parser) parseDatatable() *Datatable {
	d := &Datatable{At: p.expectWord("datatable").pos}
	d.Cols = p.parseColDecls()
	p.expectPunct("[")
	for !p.isPunct("]") {
		d.Vals = append(d.Vals, p.parseExpr())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct("]")
	return d
}

// parseColDecls reads "(name:type, ...)", the schema of datatable and
// parse-kv.
func (p *parser) parseColDecls() []ColDecl {
	var cols []ColDecl
	p.expectPunct("(")
	for !p.isPunct(")") {
		name, _ := p.expectName()
		p.expectPunct(":")
		typ := p.next()
		if typ.kind != tIdent || typeByName[strings.ToLower(typ.text)] == TypeUnknown {
			p.fail(typ, "unknown column type %s", typ)
		}
		cols = append(cols, ColDecl{Name: name, Type: typ.text})
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return cols
}

func (p *parser) parseRange() *Range {
	r := &Range{At: p.expectWord("range").pos}
	r.Name, _ = p.expectName()
	p.expectWord("from")
	r.From = p.parseExpr()
	p.expectWord("to")
	r.To = p.parseExpr()
	p.expectWord("step")
	r.Step = p.parseExpr()
	return r
}

func (p *parser) parseUnion() *Union {
	u := &Union{At: p.expectWord("union").pos}
	u.Params = p.parseParams("kind", "withsource", "isfuzzy")
	for {
		if p.isPunct("(") {
			open := p.next()
			x := p.parseTabOrExpr()
			p.expectPunct(")")
			if _, ok := x.(*SubQuery); !ok {
				x = &SubQuery{At: open.pos, Q: asPipeline(x)}
			}
			u.Legs = append(u.Legs, x)
		} else {
			u.Legs = append(u.Legs, p.parsePostfix())
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	return u
}

// parseParams reads name=value operator parameters (kind=inner,
// hint.strategy=shuffle) for the names given.
func (p *parser) parseParams(names ...string) []NamedParam {
	var out []NamedParam
	for {
		t := p.peek()
		if t.kind != tIdent {
			return out
		}
		name := t.text
		k := 1
		if name == "hint" && p.peekAt(1).text == "." && p.peekAt(2).kind == tIdent {
			name = "hint." + p.peekAt(2).text
			k = 3
		}
		if p.peekAt(k).text != "=" || p.peekAt(k).kind != tPunct {
			return out
		}
		known := strings.HasPrefix(name, "hint.")
		for _, n := range names {
			known = known || n == name
		}
		if !known {
			return out
		}
		p.i += k + 1
		v := p.next()
		if v.kind == tEOF {
			p.fail(v, "expected a value for %s", name)
		}
		val := v.text
		if v.kind == tPunct && v.text == "-" { // negative numbers
			val += p.next().text
		}
		out = append(out, NamedParam{Name: name, Value: val})
	}
}
