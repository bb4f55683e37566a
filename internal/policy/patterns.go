package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// glob is a compiled like pattern: '*' matches any run of characters and
// '?' any one character, case-insensitively. Azure documents one '*';
// several are accepted (see docs/decisions/policy.md).
type glob struct {
	parts  []string // literal runs between '*' (may hold '?')
	folded []string // parts after full case folding
	ascii  bool
	simple string // the pattern when it has no wildcard
	plain  bool
}

func compileGlob(p string) *glob {
	g := &glob{}
	if !strings.ContainsAny(p, "*?") {
		g.plain, g.simple = true, p
		return g
	}
	g.ascii = isASCII(p)
	g.parts = strings.Split(p, "*")
	for _, c := range g.parts {
		g.folded = append(g.folded, foldString(c))
	}
	return g
}

// match reports whether s matches the pattern. Non-ASCII text is
// compared after full case folding.
func (g *glob) match(s string) bool {
	if g.plain {
		return equalFold(s, g.simple)
	}
	if !isASCII(s) || !g.ascii {
		return globMatch(g.folded, foldString(s))
	}
	return globMatch(g.parts, s)
}

// globMatch matches s against literal chunks separated by '*' (chunks may
// hold '?').
func globMatch(chunks []string, s string) bool {
	first, last := chunks[0], chunks[len(chunks)-1]
	if len(chunks) == 1 {
		return chunkEq(first, s)
	}
	n := chunkLen(first)
	if runeCount(s) < n || !chunkEq(first, prefixRunes(s, n)) {
		return false
	}
	s = dropRunes(s, n)
	m := chunkLen(last)
	if runeCount(s) < m || !chunkEq(last, suffixRunes(s, m)) {
		return false
	}
	s = s[:len(s)-len(suffixRunes(s, m))]
	for _, c := range chunks[1 : len(chunks)-1] {
		i := chunkIndex(s, c)
		if i < 0 {
			return false
		}
		s = s[i:]
		s = dropRunes(s, chunkLen(c))
	}
	return true
}

func chunkLen(c string) int  { return utf8.RuneCountInString(c) }
func runeCount(s string) int { return utf8.RuneCountInString(s) }

func prefixRunes(s string, n int) string {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return s[:i]
}

func dropRunes(s string, n int) string { return s[len(prefixRunes(s, n)):] }

func suffixRunes(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		_, w := utf8.DecodeLastRuneInString(s[:i])
		i -= w
	}
	return s[i:]
}

// chunkEq compares a literal chunk (with '?' wildcards) to s, which has
// the same number of runes, ignoring case.
func chunkEq(c, s string) bool {
	if !strings.Contains(c, "?") {
		return strings.EqualFold(c, s)
	}
	if runeCount(c) != runeCount(s) {
		return false
	}
	for len(c) > 0 {
		rc, wc := utf8.DecodeRuneInString(c)
		rs, ws := utf8.DecodeRuneInString(s)
		if rc != '?' && !runeEqualFold(rc, rs) {
			return false
		}
		c, s = c[wc:], s[ws:]
	}
	return true
}

func runeEqualFold(a, b rune) bool {
	return a == b || unicode.SimpleFold(a) == b || strings.EqualFold(string(a), string(b))
}

// chunkIndex finds the first position in s where chunk c matches.
func chunkIndex(s, c string) int {
	n := chunkLen(c)
	for i := 0; i <= len(s); {
		if runeCount(s[i:]) < n {
			return -1
		}
		if chunkEq(c, prefixRunes(s[i:], n)) {
			return i
		}
		if i == len(s) {
			break
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return -1
}

// matchPattern is a compiled match pattern: '#' a digit, '?' a letter,
// '.' any character, anything else itself; the whole string, same length.
type matchPattern struct {
	p        []rune
	foldCase bool
}

func compileMatch(p string, fold bool) *matchPattern {
	return &matchPattern{p: []rune(p), foldCase: fold}
}

func (m *matchPattern) matches(s string) bool {
	i := 0
	for _, r := range s {
		if i >= len(m.p) {
			return false
		}
		switch pc := m.p[i]; pc {
		case '#':
			if r < '0' || r > '9' {
				return false
			}
		case '?':
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		case '.':
		default:
			if pc != r && !(m.foldCase && runeEqualFold(pc, r)) {
				return false
			}
		}
		i++
	}
	return i == len(m.p)
}
