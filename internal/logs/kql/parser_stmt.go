package kql

func (p *parser) parseQuery() *Query {
	q := &Query{}
	for {
		for p.acceptPunct(";") {
		}
		switch {
		case p.isWord("let"):
			q.Lets = append(q.Lets, p.parseLet())
		case p.isWord("declare") && p.peekAt(1).text == "query_parameters":
			q.Lets = append(q.Lets, p.parseDeclare()...)
		case p.isWord("set") && p.peekAt(1).kind == tIdent:
			for !p.isPunct(";") && p.peek().kind != tEOF {
				p.next()
			}
		default:
			if p.peek().kind == tEOF {
				p.fail(p.peek(), "the query has no tabular expression")
			}
			q.Body = asPipeline(p.parseTabOrExpr())
			p.parseBatch(q)
			return q
		}
	}
}

// parseBatch reads the tabular statements that follow the first one, each
// after a ";". Let statements must come before the first tabular
// statement: a later one would bind names for the statements after it
// only, which the planner does not model.
func (p *parser) parseBatch(q *Query) {
	for {
		sep := p.acceptPunct(";")
		for p.acceptPunct(";") {
		}
		t := p.peek()
		switch {
		case t.kind == tEOF:
			return
		case !sep:
			p.fail(t, "unexpected %s after the query", t)
		case p.isWord("let") || p.isWord("declare") || p.isWord("set") && p.peekAt(1).kind == tIdent:
			p.fail(t, "a %s statement after a tabular statement is not supported: put the let, declare and set statements first", t.text)
		}
		q.Batch = append(q.Batch, asPipeline(p.parseTabOrExpr()))
	}
}

// asPipeline turns a parsed body into a pipeline: subqueries unwrap, plain
// expressions (a table name, a function call) become an ExprSource.
func asPipeline(e Expr) *Pipeline {
	if s, ok := e.(*SubQuery); ok {
		return s.Q
	}
	return &Pipeline{Source: &ExprSource{X: e}}
}

func (p *parser) parseLet() *Let {
	at := p.expectWord("let").pos
	name, _ := p.expectName()
	p.expectPunct("=")
	l := &Let{At: at, Name: name}
	if p.isPunct("(") && (p.peekAt(1).text == ")" && p.peekAt(2).text == "{" || p.peekAt(1).kind == tIdent && p.peekAt(2).text == ":") {
		l.Func = p.parseFuncDef()
	} else {
		l.Value = p.parseTabOrExpr()
	}
	if !p.acceptPunct(";") {
		p.fail(p.peek(), "expected ';' after let statement, found %s", p.peek())
	}
	return l
}

func (p *parser) parseDeclare() []*Let {
	p.expectWord("declare")
	p.next()
	p.expectPunct("(")
	var lets []*Let
	for !p.isPunct(")") {
		name, at := p.expectName()
		p.expectPunct(":")
		typ := p.parseTypeName()
		l := &Let{At: at, Name: name}
		if p.acceptPunct("=") {
			l.Value = p.parseExpr()
		} else {
			l.Value = &Call{At: at, Name: "__param", Args: []Expr{&Ident{At: at, Name: typ}}}
		}
		lets = append(lets, l)
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	p.expectPunct(";")
	return lets
}

func (p *parser) parseTypeName() string {
	t := p.peek()
	if t.kind == tIdent {
		p.i++
		return t.text
	}
	if t.kind == tPunct && t.text == "(" {
		// tabular parameter type: (*) or (col:type, ...)
		start := t.pos.Offset
		depth := 0
		for {
			t := p.next()
			if t.kind == tEOF {
				p.fail(t, "unclosed tabular parameter type")
			}
			if t.text == "(" {
				depth++
			}
			if t.text == ")" {
				depth--
				if depth == 0 {
					return p.src[start : t.pos.Offset+1]
				}
			}
		}
	}
	p.fail(t, "expected a type name, found %s", t)
	return ""
}

// parseParamList parses "(name:type [= default], ...)"; check, when set,
// sees each name's token before its type is read.
func (p *parser) parseParamList(check func(t token, name string)) []Param {
	p.expectPunct("(")
	var params []Param
	for !p.isPunct(")") {
		t := p.peek()
		name, _ := p.expectName()
		if check != nil {
			check(t, name)
		}
		p.expectPunct(":")
		prm := Param{Name: name, Type: p.parseTypeName()}
		if p.acceptPunct("=") {
			prm.Default = p.parseExpr()
		}
		params = append(params, prm)
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return params
}

func (p *parser) parseFuncDef() *FuncDef {
	f := &FuncDef{At: p.peek().pos}
	f.Params = p.parseParamList(nil)
	p.expectPunct("{")
	for {
		for p.acceptPunct(";") {
		}
		if p.isWord("let") {
			f.Lets = append(f.Lets, p.parseLet())
			continue
		}
		break
	}
	f.Result = p.parseTabOrExpr()
	for p.acceptPunct(";") {
	}
	p.expectPunct("}")
	return f
}
