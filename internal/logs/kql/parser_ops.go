package kql

import "strings"

// parseOp parses one tabular operator after "|".
func (p *parser) parseOp() Op {
	t := p.peek()
	if t.kind != tIdent {
		p.fail(t, "expected a tabular operator, found %s", t)
	}
	p.next()
	switch t.text {
	case "where", "filter":
		return &Where{At: t.pos, Pred: p.parseExpr()}
	case "project", "project-away", "project-keep", "project-rename", "project-reorder":
		return &Project{At: t.pos, Word: t.text, Items: p.parseProjectItems(t.text)}
	case "extend":
		return &Extend{At: t.pos, Items: p.parseAssignList(true)}
	case "summarize":
		s := &Summarize{At: t.pos, Params: p.parseParams()}
		if !p.isWord("by") {
			s.Aggs = p.parseAssigns()
		}
		if p.acceptWord("by") {
			s.By = p.parseAssigns()
		}
		return s
	case "sort", "order":
		p.expectWord("by")
		s := &Sort{At: t.pos, Word: t.text}
		for {
			s.Keys = append(s.Keys, p.parseSortKey())
			if !p.acceptPunct(",") {
				return s
			}
		}
	case "top":
		n := p.parseAdditive()
		p.expectWord("by")
		return &Top{At: t.pos, N: n, Key: p.parseSortKey()}
	case "take", "limit":
		return &Take{At: t.pos, Word: t.text, N: p.parseExpr()}
	case "distinct":
		d := &Distinct{At: t.pos}
		for {
			if p.isPunct("*") {
				d.Items = append(d.Items, &Star{At: p.next().pos})
			} else {
				d.Items = append(d.Items, p.parseExpr())
			}
			if !p.acceptPunct(",") {
				return d
			}
		}
	case "count":
		return &Count{At: t.pos}
	case "join", "lookup":
		return p.parseJoin(t)
	case "union":
		p.i--
		return p.parseUnion()
	case "make-series":
		return p.parseMakeSeries(t)
	case "mv-expand":
		return p.parseMvExpand(t)
	case "parse", "parse-where":
		return p.parseParse(t)
	case "render":
		r := &Render{At: t.pos}
		if p.peek().kind == tIdent {
			r.Chart = p.next().text
		}
		r.Text = p.rawRest()
		return r
	case "serialize":
		s := &Serialize{At: t.pos}
		if p.peek().kind != tEOF && !p.isPunct("|") && !p.isPunct(")") && !p.isPunct(";") {
			s.Items = p.parseAssigns()
		}
		return s
	case "search":
		s := &Search{At: t.pos, Params: p.parseParams("kind")}
		p.search = true
		s.Pred = p.parseExpr()
		p.search = false
		return s
	case "scan":
		return p.parseScan(t)
	case "partition":
		return p.parsePartition(t)
	case "fork":
		return p.parseFork(t)
	case "facet":
		return p.parseFacet(t)
	case "parse-kv":
		return p.parseParseKV(t)
	case "mv-apply":
		return p.parseMvApply(t)
	case "top-nested":
		p.i--
		return p.parseTopNested()
	case "getschema":
		return &GetSchema{At: t.pos}
	case "as":
		p.parseParams()
		name, _ := p.expectName()
		return &As{At: t.pos, Name: name}
	}
	textAt := p.peek().pos
	return &RawOp{At: t.pos, Name: t.text, TextAt: textAt, Text: p.rawRest()}
}

// keywordNames cannot be bare column names in an assignment (Kusto rejects
// "asc = ...", "first = ...": agent-dynamic-json-0025, agent-aggregation-0025#3;
// "missing = ...": agent-parse-search-0006#2, a keyword Kusto.Language's
// SyntaxFacts does not let stand for an identifier).
var keywordNames = map[string]bool{
	"and": true, "or": true, "in": true, "between": true, "asc": true, "desc": true, "first": true, "last": true,
	"where": true, "from": true, "missing": true,
}

// rawRest consumes tokens up to the next top-level "|", ")" , ";" or the
// end, and returns the source text they cover.
func (p *parser) rawRest() string {
	start := p.peek().pos.Offset
	end := start
	depth := 0
	for {
		t := p.peek()
		if t.kind == tEOF {
			break
		}
		if t.kind == tPunct {
			switch t.text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					return strings.TrimSpace(p.src[start:end])
				}
				depth--
			case "|", ";":
				if depth == 0 {
					return strings.TrimSpace(p.src[start:end])
				}
			}
		}
		p.next()
		end = t.pos.Offset + len(tokenSource(t))
	}
	return strings.TrimSpace(p.src[start:end])
}

// tokenSource returns the source spelling of a token.
func tokenSource(t token) string {
	if t.kind == tTyped {
		return t.text + "(" + t.raw + ")"
	}
	return t.text
}

func (p *parser) parseAssigns() []Assign {
	return p.parseAssignList(false)
}

// parseAssignList parses a comma-separated list of assignments; tuples
// allows "(a, b) = f()" items, which extend, project and print accept.
func (p *parser) parseAssignList(tuples bool) []Assign {
	var out []Assign
	for {
		if tuples {
			if names, ok := p.tryNameTuple(); ok {
				out = append(out, Assign{Names: names, X: p.parseExpr()})
				if !p.acceptPunct(",") {
					return out
				}
				continue
			}
		}
		out = append(out, p.parseAssign())
		if !p.acceptPunct(",") {
			return out
		}
	}
}

func (p *parser) parseAssign() Assign {
	if p.isName() {
		save := p.i
		nameTok := p.peek()
		name, _ := p.expectName()
		if p.isPunct("=") {
			if nameTok.kind == tIdent && (stringOps[name] || keywordNames[name]) {
				p.fail(nameTok, "'%s' is a keyword and cannot name a column", name)
			}
			p.next()
			return Assign{Name: name, X: p.parseExpr()}
		}
		p.i = save
	}
	return Assign{X: p.parseExpr()}
}

// tryNameTuple reads "(a, b, ...) =", the column names of a function that
// returns several columns; it leaves the position unchanged when the
// tokens are not such a list.
func (p *parser) tryNameTuple() ([]string, bool) {
	if !p.isPunct("(") {
		return nil, false
	}
	save := p.i
	p.next()
	var names []string
	for p.isName() {
		nameTok := p.peek()
		name, _ := p.expectName()
		if nameTok.kind == tIdent && (stringOps[name] || keywordNames[name]) {
			p.i = save
			return nil, false
		}
		names = append(names, name)
		if !p.acceptPunct(",") {
			break
		}
	}
	if len(names) == 0 || !p.acceptPunct(")") || !p.isPunct("=") {
		p.i = save
		return nil, false
	}
	p.next()
	return names, true
}

func (p *parser) parseProjectItems(word string) []Assign {
	if word == "project" {
		return p.parseAssignList(true)
	}
	if word == "project-rename" {
		return p.parseAssigns()
	}
	var out []Assign
	for {
		name, at := p.expectName()
		// wildcard names: x*, *x
		for p.isPunct("*") || p.peek().kind == tIdent && p.peek().pos.Offset == at.Offset+len(name) {
			name += p.next().text
		}
		if word == "project-reorder" && (p.isWord("asc") || p.isWord("desc") || p.isWord("granny-asc")) {
			p.next()
		}
		out = append(out, Assign{X: &Ident{At: at, Name: name}})
		if !p.acceptPunct(",") {
			return out
		}
	}
}

func (p *parser) parseSortKey() SortKey {
	k := SortKey{X: p.parseExpr()}
	switch {
	case p.acceptWord("asc"):
		k.Asc, k.ExplicitDir = true, true
	case p.acceptWord("desc"):
		k.ExplicitDir = true
	}
	k.NullsFirst = k.Asc
	if p.acceptWord("nulls") {
		k.ExplicitNulls = true
		switch {
		case p.acceptWord("first"):
			k.NullsFirst = true
		case p.acceptWord("last"):
			k.NullsFirst = false
		default:
			p.fail(p.peek(), "expected 'first' or 'last' after 'nulls'")
		}
	}
	return k
}

func (p *parser) parseJoin(t token) *Join {
	j := &Join{At: t.pos, Word: t.text, Params: p.parseParams("kind")}
	if p.isPunct("(") {
		open := p.next()
		x := p.parseTabOrExpr()
		p.expectPunct(")")
		if _, ok := x.(*SubQuery); !ok {
			x = &SubQuery{At: open.pos, Q: asPipeline(x)}
		}
		j.Right = x
	} else {
		j.Right = p.parsePostfix()
	}
	p.expectWord("on")
	for {
		j.On = append(j.On, p.parseExpr())
		if !p.acceptPunct(",") {
			return j
		}
	}
}

func (p *parser) parseMakeSeries(t token) *MakeSeries {
	m := &MakeSeries{At: t.pos, Params: p.parseParams("kind")}
	for {
		a := SeriesAgg{Assign: p.parseAssign()}
		if p.acceptWord("default") {
			p.expectPunct("=")
			a.Default = p.parseExpr()
		}
		m.Aggs = append(m.Aggs, a)
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectWord("on")
	m.On = p.parseExpr()
	if p.acceptWord("from") {
		m.From = p.parseExpr()
	}
	if p.acceptWord("to") {
		m.To = p.parseExpr()
	}
	p.expectWord("step")
	m.Step = p.parseExpr()
	if p.acceptWord("by") {
		m.By = p.parseAssigns()
	}
	return m
}

func (p *parser) parseMvExpand(t token) *MvExpand {
	m := &MvExpand{At: t.pos, Params: p.parseParams("kind", "bagexpansion", "with_itemindex")}
	m.Items = p.parseMvItems()
	if p.acceptWord("limit") {
		m.Limit = p.parseExpr()
	}
	return m
}

func (p *parser) parseMvItems() []MvItem {
	var items []MvItem
	for {
		it := MvItem{Assign: p.parseAssign()}
		if p.acceptWord("to") {
			p.expectWord("typeof")
			p.expectPunct("(")
			typ := p.next()
			if typeByName[strings.ToLower(typ.text)] == TypeUnknown {
				p.fail(typ, "unknown type %s", typ)
			}
			it.To = typ.text
			p.expectPunct(")")
		}
		items = append(items, it)
		if !p.acceptPunct(",") {
			return items
		}
	}
}

func (p *parser) parseParseKV(t token) *ParseKV {
	o := &ParseKV{At: t.pos, X: p.parseAdditive()}
	p.expectWord("as")
	o.Cols = p.parseColDecls()
	p.expectWord("with")
	p.expectPunct("(")
	o.With = p.parseAssigns()
	p.expectPunct(")")
	return o
}

func (p *parser) parseMvApply(t token) *MvApply {
	o := &MvApply{At: t.pos, Params: p.parseParams("kind", "bagexpansion", "with_itemindex")}
	o.Items = p.parseMvItems()
	p.expectWord("on")
	o.Ops = p.parseSubOps()
	return o
}

// parseSubOps reads "(op | op ...)", the per-group subquery of mv-apply and
// partition.
func (p *parser) parseSubOps() []Op {
	p.expectPunct("(")
	var ops []Op
	for {
		ops = append(ops, p.parseOp())
		if !p.acceptPunct("|") {
			break
		}
	}
	p.expectPunct(")")
	return ops
}

func (p *parser) parseTopNested() *TopNested {
	o := &TopNested{At: p.peek().pos}
	for {
		p.expectWord("top-nested")
		var l NestedLevel
		if !p.isWord("of") {
			l.N = p.parseAdditive()
		}
		p.expectWord("of")
		l.Of = p.parseAssign()
		if p.isWord("with") && p.peekAt(1).text == "others" {
			p.i += 2
			p.expectPunct("=")
			l.Others = p.parseExpr()
		}
		p.expectWord("by")
		l.By = p.parseAssign()
		if p.acceptWord("asc") {
			l.Asc = true
		} else {
			p.acceptWord("desc")
		}
		o.Levels = append(o.Levels, l)
		if !(p.isPunct(",") && p.peekAt(1).text == "top-nested") {
			return o
		}
		p.next()
	}
}

func (p *parser) parseParse(t token) *ParseOp {
	ps := &ParseOp{At: t.pos, Word: t.text, Params: p.parseParams("kind", "flags")}
	ps.X = p.parseAdditive()
	p.expectWord("with")
	for {
		tk := p.peek()
		switch {
		case tk.kind == tString:
			x := p.parsePrimary().(*Lit)
			ps.Pattern = append(ps.Pattern, PatternPart{Lit: x})
		case tk.kind == tPunct && tk.text == "*":
			p.next()
			ps.Pattern = append(ps.Pattern, PatternPart{Star: true})
		case p.isName():
			name, _ := p.expectName()
			part := PatternPart{Col: name}
			if p.acceptPunct(":") {
				typ := p.next()
				if typeByName[strings.ToLower(typ.text)] == TypeUnknown {
					p.fail(typ, "unknown type %s", typ)
				}
				part.Type = typ.text
			}
			ps.Pattern = append(ps.Pattern, part)
		default:
			if len(ps.Pattern) == 0 {
				p.fail(tk, "expected a parse pattern, found %s", tk)
			}
			return ps
		}
	}
}
