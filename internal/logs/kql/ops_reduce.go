package kql

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The reduce operator groups strings by similarity, after Vaarandi's SLCT
// (the algorithm Kusto's page names): each value is split into terms
// (runs of letters and digits, and runs of the other characters); a term
// at a position is frequent when more than threshold × rows hold it there
// and it is not a number; a row's candidate is the set of its frequent
// (position, term) pairs; candidates held by more than threshold × rows
// are the groups, and every other row goes to "others". A group's pattern
// is its representative (the group's first value) with each run of
// infrequent terms, and the delimiters next to it, written "*". What the
// page leaves open, and why these choices, is in docs/decisions/kql.md.

// reduceSpec is a parsed "reduce [kind=source] by Expr [with threshold=T,
// characters=C]".
type reduceSpec struct {
	by        Expr
	threshold float64
	chars     string // the characters that swap roles (word or separator)
	source    bool
}

func parseReduce(sc *scope, o *RawOp) (reduceSpec, error) {
	spec := reduceSpec{threshold: 0.1}
	toks, err := lexRawOp(o)
	if err != nil {
		return spec, errAt(o, "reduce: %v", err)
	}
	p := &parser{src: o.Text, toks: toks}
	var threshold, chars Expr
	const usage = "reduce needs: reduce [kind=source] by Expr [with threshold=T, characters=C]"
	perr := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = errAt(o, usage)
			}
		}()
		if p.acceptWord("kind") {
			p.expectPunct("=")
			kind, _ := p.expectName()
			if kind != "source" {
				err = errAt(o, "reduce: kind must be source, not '%s'", kind)
				return err
			}
			spec.source = true
		}
		p.expectWord("by")
		spec.by = p.parseExpr()
		if p.acceptWord("with") {
			for {
				name, _ := p.expectName()
				p.expectPunct("=")
				x := p.parseExpr()
				switch {
				case name == "threshold" && threshold == nil:
					threshold = x
				case name == "characters" && chars == nil:
					chars = x
				default:
					err = errAt(o, "reduce: unknown or repeated parameter '%s' (threshold, characters)", name)
					return err
				}
				if !p.acceptPunct(",") {
					break
				}
			}
		}
		if p.peek().kind != tEOF {
			panic("trailing")
		}
		return nil
	}()
	if perr != nil {
		return spec, perr
	}
	if threshold != nil {
		v, err := sc.constant(threshold, "reduce's threshold")
		if err != nil {
			return spec, err
		}
		if !v.ok || !v.T.isNumeric() {
			return spec, errAt(threshold, "reduce's threshold must be a number between 0 and 1")
		}
		spec.threshold = v.AsReal()
		if !(spec.threshold >= 0 && spec.threshold <= 1) {
			return spec, errAt(threshold, "reduce's threshold must be between 0 and 1, not %v", spec.threshold)
		}
	}
	if chars != nil {
		v, err := sc.constant(chars, "reduce's characters")
		if err != nil {
			return spec, err
		}
		if !v.ok || v.T != TypeString || v.s == "" {
			return spec, errAt(chars, "reduce's characters must be a non-empty string")
		}
		spec.chars = v.s
	}
	return spec, nil
}

// reduceTerms splits s into its terms and the delimiters around them:
// seps[i] precedes terms[i] and seps[len(terms)] follows the last term.
// A term is a run of letters and digits or a run of other characters
// (spaces, punctuation), so the separators all rows share stay in the
// patterns. The characters in sepChars swap roles: a listed letter or
// digit is a delimiter, in no term, and a listed other character is part
// of the letters' terms.
func reduceTerms(s, sepChars string) (terms, seps []string) {
	const (
		word = iota
		punct
		delim
	)
	class := func(r rune) int {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		listed := strings.ContainsRune(sepChars, r)
		switch {
		case alnum && listed:
			return delim
		case alnum || listed:
			return word
		}
		return punct
	}
	start, cur := 0, delim
	pending := "" // the delimiters since the last term
	flush := func(end int) {
		if cur == delim {
			pending = s[start:end]
			return
		}
		seps = append(seps, pending)
		terms = append(terms, s[start:end])
		pending = ""
	}
	for i, r := range s {
		if c := class(r); c != cur {
			if i > 0 {
				flush(i)
			}
			start, cur = i, c
		}
	}
	if s != "" {
		flush(len(s))
	}
	seps = append(seps, pending)
	return terms, seps
}

// reduceIsWord reports whether a term of reduceTerms is made of letters
// and digits (and listed characters), not separators.
func reduceIsWord(t, sepChars string) bool {
	r, _ := utf8.DecodeRuneInString(t)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(sepChars, r)
}

// reduceIsNumber reports whether a term is made of ASCII digits alone:
// such terms are always wildcards.
func reduceIsNumber(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return t != ""
}

// reduceGroup is one candidate: the rows holding the same frequent terms.
type reduceGroup struct {
	first  int   // row of the representative
	last   int   // the last frequent position
	freq   []int // the frequent positions, ascending
	count  int64
	longer bool // some row has terms after the last frequent position
}

// pattern writes the representative with every run of infrequent terms,
// and the delimiters that touch it, as one "*".
func (g *reduceGroup) pattern(terms, seps []string) string {
	var b strings.Builder
	kept := make(map[int]bool, len(g.freq))
	for _, i := range g.freq {
		kept[i] = true
	}
	prevKept, wild := true, false
	for i, t := range terms {
		if !kept[i] {
			if !wild {
				b.WriteByte('*')
			}
			prevKept, wild = false, true
			continue
		}
		if prevKept {
			b.WriteString(seps[i])
		}
		b.WriteString(t)
		prevKept, wild = true, false
	}
	switch {
	case g.longer && !wild:
		b.WriteByte('*')
	case !wild:
		b.WriteString(seps[len(terms)])
	}
	return b.String()
}

// compileReduce plans the reduce operator. The input is read whole; the
// term counts and the candidates are counted against the memory budget.
func compileReduce(sc *scope, in *planTable, o *RawOp) (*planTable, error) {
	spec, err := parseReduce(sc, o)
	if err != nil {
		return nil, err
	}
	by, err := sc.compileExpr(spec.by)
	if err != nil {
		return nil, err
	}
	if by.t != TypeString {
		return nil, errAt(spec.by, "reduce by needs a string expression, not %s", by.t)
	}
	cols := []Column{{"Pattern", TypeString}, {"Count", TypeLong}, {"Representative", TypeString}}
	if spec.source {
		for _, c := range in.cols {
			for _, add := range cols {
				if c.Name == add.Name {
					return nil, errAt(o, "reduce kind=source adds the columns Pattern, Count and Representative, and the input already has %s", c.Name)
				}
			}
		}
		cols = append(append([]Column(nil), in.cols...), cols...)
	}
	return &planTable{cols: cols, open: func(q *qctx) (RowIter, error) {
		rows, err := runPlan(q, in)
		if err != nil {
			return nil, err
		}
		groups, groupOf := reduceRows(q, rows, by.f, spec)
		if !spec.source {
			if others := groups[len(groups)-1]; others[1].i == 0 {
				groups = groups[:len(groups)-1]
			}
			return &sliceIter{rows: groups}, nil
		}
		src := make([]Row, len(rows))
		for i, r := range rows {
			nr := make(Row, len(r), len(r)+3)
			copy(nr, r)
			src[i] = append(nr, groups[groupOf[i]]...)
		}
		return &sliceIter{rows: src}, nil
	}}, nil
}

// reduceRows groups the rows: it returns the groups' Pattern, Count and
// Representative (by count, largest first, then others, whose count may
// be 0) and each row's group.
func reduceRows(q *qctx, rows []Row, by func(Row) Value, spec reduceSpec) (groups []Row, groupOf []int) {
	type word struct {
		pos  int
		term string
	}
	values := make([]string, len(rows))
	rowTerms := make([][]string, len(rows)) // substrings of the values
	counts := map[word]int64{}
	for i, r := range rows {
		values[i] = toStr(by(r))
		terms, _ := reduceTerms(values[i], spec.chars)
		rowTerms[i] = terms
		q.gov.mustGrow("reduce", 24+16*int64(len(terms)))
		for pos, t := range terms {
			w := word{pos, t}
			if counts[w] == 0 {
				q.gov.mustGrow("reduce", 64+int64(len(t)))
			}
			counts[w]++
		}
		if err := q.gov.tick(q.ctx); err != nil {
			panic(err)
		}
	}
	// a term or candidate is frequent when more than threshold × rows
	// hold it (the tolerance keeps 0.29 × 100 from passing for 29); a
	// term of digits alone never is
	support := spec.threshold * float64(len(rows))
	above := func(n int64) bool { return float64(n)-support > 1e-9*max(1, support) }
	var cands []*reduceGroup
	byKey := map[string]int{}
	cand := make([]int, len(rows)) // the candidate of each row, -1 for none
	var key strings.Builder
	for i, terms := range rowTerms {
		key.Reset()
		var freq []int
		words := false // separators alone make no group
		for pos, t := range terms {
			if above(counts[word{pos, t}]) && !reduceIsNumber(t) {
				freq = append(freq, pos)
				words = words || reduceIsWord(t, spec.chars)
				key.WriteString(strconv.Itoa(pos))
				key.WriteByte(':')
				key.WriteString(strconv.Itoa(len(t)))
				key.WriteByte(':')
				key.WriteString(t)
			}
		}
		cand[i] = -1
		if !words {
			continue
		}
		k := key.String()
		gi, ok := byKey[k]
		if !ok {
			q.gov.mustGrow("reduce", 64+2*int64(len(k)))
			gi = len(cands)
			byKey[k] = gi
			cands = append(cands, &reduceGroup{first: i, freq: freq, last: freq[len(freq)-1]})
		}
		g := cands[gi]
		g.count++
		g.longer = g.longer || len(terms) > g.last+1
		cand[i] = gi
		if err := q.gov.tick(q.ctx); err != nil {
			panic(err)
		}
	}
	order := make([]int, 0, len(cands))
	for gi, g := range cands {
		if above(g.count) {
			order = append(order, gi)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].count > cands[order[b]].count })
	final := make([]int, len(cands)) // candidate -> output group
	for gi := range final {
		final[gi] = -1
	}
	for n, gi := range order {
		final[gi] = n
		g := cands[gi]
		terms, seps := reduceTerms(values[g.first], spec.chars)
		groups = append(groups, Row{String(g.pattern(terms, seps)), Long(g.count), String(values[g.first])})
	}
	others := len(order)
	groupOf = make([]int, len(rows))
	var nOthers int64
	for i, c := range cand {
		groupOf[i] = others
		if c >= 0 && final[c] >= 0 {
			groupOf[i] = final[c]
			continue
		}
		nOthers++
	}
	groups = append(groups, Row{String("others"), Long(nOthers), String("")})
	return groups, groupOf
}
