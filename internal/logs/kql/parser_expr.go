package kql

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// stringOps lists the word operators at comparison level.
var stringOps = map[string]bool{}

func init() {
	for _, base := range []string{"has", "contains", "startswith", "endswith", "hasprefix", "hassuffix"} {
		for _, w := range []string{base, base + "_cs"} {
			stringOps[w] = true
			stringOps["!"+w] = true
		}
	}
	stringOps["like"] = true
	stringOps["!like"] = true
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.peek(), "expression nested more than %d levels deep", maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

// parseExpr parses a scalar expression at the lowest precedence (or).
func (p *parser) parseExpr() Expr {
	p.enter()
	defer p.leave()
	x := p.parseAnd()
	for p.isWord("or") {
		t := p.next()
		x = &Binary{At: t.pos, Op: "or", L: x, R: p.parseAnd()}
	}
	return x
}

func (p *parser) parseAnd() Expr {
	x := p.parseCompare()
	for p.isWord("and") {
		t := p.next()
		x = &Binary{At: t.pos, Op: "and", L: x, R: p.parseCompare()}
	}
	return x
}

func (p *parser) parseCompare() Expr {
	x := p.parseAdditive()
	for {
		t := p.peek()
		switch {
		case t.kind == tPunct && (t.text == "==" || t.text == "!=" || t.text == "<>" || t.text == "<" || t.text == "<=" ||
			t.text == ">" || t.text == ">=" || t.text == "=~" || t.text == "!~"):
			p.next()
			op := t.text
			if op == "<>" {
				op = "!="
			}
			x = &Binary{At: t.pos, Op: op, L: x, R: p.parseAdditive()}
		case t.kind == tIdent && stringOps[t.text]:
			p.next()
			x = &Binary{At: t.pos, Op: t.text, L: x, R: p.parseAdditive()}
		case t.kind == tIdent && (t.text == "matches" || t.text == "!matches") && p.peekAt(1).text == "regex":
			p.i += 2
			x = &Binary{At: t.pos, Op: t.text + " regex", L: x, R: p.parseAdditive()}
		case t.kind == tIdent && (t.text == "in" || t.text == "!in" || t.text == "in~" || t.text == "!in~" ||
			t.text == "has_any" || t.text == "has_all" || t.text == "!has_any") && p.peekAt(1).text == "(":
			p.next()
			x = &InExpr{At: t.pos, Op: t.text, X: x, List: p.parseList()}
		case t.kind == tIdent && (t.text == "between" || t.text == "!between") && p.peekAt(1).text == "(":
			p.next()
			p.expectPunct("(")
			lo := p.parseAdditive()
			p.expectPunct("..")
			hi := p.parseAdditive()
			p.expectPunct(")")
			x = &Between{At: t.pos, Not: t.text == "!between", X: x, Lo: lo, Hi: hi}
		default:
			return x
		}
	}
}

// parseList reads "(a, b, ...)"; an element may be a tabular subquery.
func (p *parser) parseList() []Expr {
	p.expectPunct("(")
	var out []Expr
	for !p.isPunct(")") {
		out = append(out, p.parseTabOrExpr())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return out
}

func (p *parser) parseAdditive() Expr {
	x := p.parseMul()
	for p.isPunct("+") || p.isPunct("-") {
		t := p.next()
		x = &Binary{At: t.pos, Op: t.text, L: x, R: p.parseMul()}
	}
	return x
}

func (p *parser) parseMul() Expr {
	x := p.parseUnary()
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		t := p.next()
		x = &Binary{At: t.pos, Op: t.text, L: x, R: p.parseUnary()}
	}
	return x
}

func (p *parser) parseUnary() Expr {
	if p.isPunct("-") || p.isPunct("+") {
		t := p.next()
		p.enter()
		defer p.leave()
		x := p.parseUnary()
		if l, ok := x.(*Lit); ok && t.text == "-" {
			if v, ok := negateLit(l.Val); ok {
				return &Lit{At: t.pos, Text: "-" + l.Text, Val: v}
			}
		}
		return &Unary{At: t.pos, Op: t.text, X: x}
	}
	return p.parsePostfix()
}

func negateLit(v Value) (Value, bool) {
	if !v.ok {
		return v, false
	}
	switch v.T {
	case TypeLong, TypeInt, TypeTimeSpan:
		if v.i == math.MinInt64 {
			return v, false
		}
		v.i = -v.i
		return v, true
	case TypeReal, TypeDecimal:
		v.i = int64(math.Float64bits(0 - v.real())) // -0.0 is 0, as Kusto reads it
		return v, true
	}
	return v, false
}

func (p *parser) parsePostfix() Expr {
	x := p.parsePrimary()
	for {
		switch {
		case p.isPunct(".") && (p.peekAt(1).kind == tIdent || p.peekAt(1).text == "["):
			t := p.next()
			name, _ := p.expectName()
			x = &Member{At: t.pos, X: x, Name: name}
		case p.isPunct("["):
			t := p.next()
			idx := p.parseExpr()
			p.expectPunct("]")
			if l, ok := idx.(*Lit); ok && l.Val.T == TypeString && isPlainName(l.Val.s) {
				x = &Member{At: t.pos, X: x, Name: l.Val.s}
			} else {
				x = &Index{At: t.pos, X: x, Idx: idx}
			}
		default:
			return x
		}
	}
}

func isPlainName(s string) bool { return s != "" && quoteName(s) == s }

func (p *parser) parsePrimary() Expr {
	p.enter()
	defer p.leave()
	t := p.peek()
	switch t.kind {
	case tInt:
		p.next()
		text := strings.TrimSuffix(strings.TrimSuffix(t.text, "L"), "l")
		n, err := strconv.ParseInt(text, 0, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(text, 64)
			if ferr != nil {
				p.fail(t, "bad number %s", t)
			}
			return &Lit{At: t.pos, Text: t.text, Val: Real(f)}
		}
		return &Lit{At: t.pos, Text: t.text, Val: Long(n)}
	case tReal:
		p.next()
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			p.fail(t, "bad number %s", t)
		}
		return &Lit{At: t.pos, Text: t.text, Val: Real(f)}
	case tTimespan:
		p.next()
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			p.fail(t, "bad timespan %s", t)
		}
		return &Lit{At: t.pos, Text: t.text, Val: TimeSpan(int64(math.Round(f * float64(timespanUnits[t.raw]))))}
	case tString:
		p.next()
		text, val := t.text, t.val
		for p.peek().kind == tString { // adjacent literals concatenate
			n := p.next()
			text += " " + n.text
			val += n.val
		}
		return &Lit{At: t.pos, Text: text, Val: String(val)}
	case tTyped:
		p.next()
		v, err := typedLiteralValue(strings.ToLower(t.text), t.raw)
		if err != "" {
			p.fail(t, "%s", err)
		}
		return &Lit{At: t.pos, Text: t.text + "(" + t.raw + ")", Val: v}
	case tIdent:
		switch t.text {
		case "true", "false":
			p.next()
			return &Lit{At: t.pos, Text: t.text, Val: Bool(t.text == "true")}
		}
		p.next()
		if p.isPunct("(") {
			return &Call{At: t.pos, Name: t.text, Args: p.parseArgs()}
		}
		if p.search && p.isPunct(":") && p.peekAt(1).kind == tString {
			colon := p.next()
			return &Binary{At: colon.pos, Op: ":", L: &Ident{At: t.pos, Name: t.text}, R: p.parsePrimary()}
		}
		return &Ident{At: t.pos, Name: t.text}
	case tPunct:
		switch t.text {
		case "(":
			p.next()
			x := p.parseTabOrExpr()
			p.expectPunct(")")
			return x
		case "[":
			if p.peekAt(1).kind == tString && p.peekAt(2).text == "]" {
				p.i += 3
				return &Ident{At: t.pos, Name: p.toks[p.i-2].val}
			}
		case "*":
			p.next()
			return &Star{At: t.pos}
		}
	}
	p.fail(t, "unexpected %s", t)
	return nil
}

func (p *parser) parseArgs() []Expr {
	p.expectPunct("(")
	var args []Expr
	for !p.isPunct(")") {
		if p.isPunct("*") && (p.peekAt(1).text == ")" || p.peekAt(1).text == ",") {
			args = append(args, &Star{At: p.next().pos})
		} else {
			args = append(args, p.parseTabOrExpr())
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return args
}

// typedLiteralValue converts the inside of a typed literal such as
// datetime(...) or dynamic(...) to a value; a non-empty string is the error.
func typedLiteralValue(typ, raw string) (Value, string) {
	t := typeByName[typ]
	s := strings.TrimSpace(raw)
	if s == "null" {
		return Null(t), ""
	}
	switch t {
	case TypeDateTime:
		if ticks, ok := parseDateTime(s); ok {
			return DateTime(ticks), ""
		}
	case TypeTimeSpan:
		if ticks, ok := parseTimeSpan(s); ok {
			return TimeSpan(ticks), ""
		}
	case TypeGuid:
		if g, ok := parseGuid(s); ok {
			return Guid(g), ""
		}
	case TypeDynamic:
		d, err := ParseJSON(s)
		if err == nil {
			return Dynamic(d), ""
		}
		if j, ok := singleQuotedJSON(s); ok {
			if d, err := ParseJSON(j); err == nil {
				return Dynamic(d), ""
			}
		}
		if j, ok := typedDynamicJSON(s); ok {
			if j2, ok := singleQuotedJSON(j); ok {
				j = j2
			}
			if d, err := ParseJSON(j); err == nil {
				return Dynamic(d), ""
			}
		}
		if v, ok := dynamicLiteralFallback(s); ok {
			return v, ""
		}
	case TypeBool:
		switch strings.ToLower(s) {
		case "true":
			return Bool(true), ""
		case "false":
			return Bool(false), ""
		}
	case TypeInt, TypeLong:
		if n, err := strconv.ParseInt(s, 0, 64); err == nil {
			if t == TypeInt {
				if n > math.MaxInt32 || n < math.MinInt32 {
					return Value{}, "int literal out of range: " + s
				}
				return Int(n), ""
			}
			return Long(n), ""
		}
	case TypeReal, TypeDecimal:
		f, ok := parseRealText(s)
		if ok {
			if t == TypeDecimal {
				return Decimal(f), ""
			}
			return Real(f), ""
		}
	}
	return Value{}, "invalid " + typ + " literal: " + s
}

// dynamicLiteralFallback accepts dynamic literals that are not strict JSON:
// typed scalars such as dynamic(datetime(...)) are rare and become strings.
func dynamicLiteralFallback(s string) (Value, bool) {
	if strings.HasPrefix(s, "'") && strings.HasSuffix(s, "'") && len(s) >= 2 {
		return Dynamic(s[1 : len(s)-1]), true
	}
	return Value{}, false
}

// singleQuotedJSON rewrites the single-quoted strings of a dynamic literal
// (dynamic(['a', 'b']), as Kusto accepts them) into JSON strings; ok is
// false when there are none or a string is not closed.
func singleQuotedJSON(s string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			j := jsonStringEnd(s, i)
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i : j+1])
			i = j
		case '\'':
			var raw strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					switch s[j] {
					case '\'':
						raw.WriteByte('\'')
					case 'n':
						raw.WriteByte('\n')
					case 't':
						raw.WriteByte('\t')
					default:
						raw.WriteByte(s[j])
					}
					continue
				}
				raw.WriteByte(s[j])
			}
			if j >= len(s) {
				return "", false
			}
			q, _ := json.Marshal(raw.String())
			b.Write(q)
			i = j
			changed = true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), changed
}

func parseRealText(s string) (float64, bool) {
	// "inf" is accepted as "inf" or "Inf" but not "INF"
	// (agent-type-casts-coercion-0010#2, -0028, agent-null-and-edge-0033)
	shortInf := strings.HasSuffix(s, "nf")
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), true
	case "infinity", "+infinity":
		return math.Inf(1), true
	case "-infinity":
		return math.Inf(-1), true
	case "inf", "+inf", "-inf":
		if !shortInf {
			return 0, false
		}
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// parseGuid accepts a GUID with or without dashes and returns it in the
// canonical dashed lower-case form.
func parseGuid(s string) (string, bool) {
	s = strings.Trim(strings.TrimSpace(s), "{}")
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return "", false
	}
	if len(s) == 36 && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		if hexVal(h[i]) < 0 {
			return "", false
		}
	}
	h = strings.ToLower(h)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}
