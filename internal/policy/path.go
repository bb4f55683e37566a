package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/steward-gov/steward/internal/armexpr"
)

// seg is one step of a property path: an object key, an array index, or
// the [*] wildcard that selects every member of an array.
type seg struct {
	key      string
	index    int // >= 0 for [n]
	wildcard bool
}

// parsePath parses a property path such as "properties.rules[*].ports[0]"
// or "tags['cost.center']". Keys keep their spelling; lookups are
// case-insensitive.
func parsePath(s string) ([]seg, error) {
	var segs []seg
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || i == len(s)-1 || s[i+1] == '.' || s[i+1] == '[' {
				return nil, fmt.Errorf("path %q: misplaced '.' at %d", s, i)
			}
			i++
		case c == '[':
			end, key, sg, err := parseBracket(s, i)
			if err != nil {
				return nil, err
			}
			_ = key
			segs = append(segs, sg)
			i = end
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			segs = append(segs, seg{key: s[i:j], index: -1})
			i = j
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("empty path")
	}
	return segs, nil
}

// parseBracket parses "[*]", "[n]", "['key']" or "[key]" starting at s[i].
func parseBracket(s string, i int) (end int, key string, sg seg, err error) {
	if strings.HasPrefix(s[i:], "[*]") {
		return i + 3, "", seg{wildcard: true, index: -1}, nil
	}
	if i+1 < len(s) && s[i+1] == '\'' {
		var b strings.Builder
		j := i + 2
		for ; j < len(s); j++ {
			if s[j] == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					b.WriteByte('\'')
					j++
					continue
				}
				break
			}
			b.WriteByte(s[j])
		}
		if j+1 >= len(s) || s[j] != '\'' || s[j+1] != ']' {
			return 0, "", seg{}, fmt.Errorf("path %q: unterminated ['...'] at %d", s, i)
		}
		return j + 2, b.String(), seg{key: b.String(), index: -1}, nil
	}
	j := strings.IndexByte(s[i:], ']')
	if j < 0 {
		return 0, "", seg{}, fmt.Errorf("path %q: unterminated '[' at %d", s, i)
	}
	inner := s[i+1 : i+j]
	if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
		return i + j + 1, "", seg{index: n}, nil
	}
	if inner == "" {
		return 0, "", seg{}, fmt.Errorf("path %q: empty [] at %d", s, i)
	}
	return i + j + 1, inner, seg{key: inner, index: -1}, nil
}

// hasWildcard reports whether a path selects a collection.
func hasWildcard(segs []seg) bool {
	for _, s := range segs {
		if s.wildcard {
			return true
		}
	}
	return false
}

// segsPrefix reports whether p is a prefix of s, comparing keys
// case-insensitively.
func segsPrefix(p, s []seg) bool {
	if len(p) > len(s) {
		return false
	}
	for i := range p {
		if p[i].wildcard != s[i].wildcard || p[i].index != s[i].index || !strings.EqualFold(p[i].key, s[i].key) {
			return false
		}
	}
	return true
}

// lookup resolves a path without wildcards.
func lookup(v any, segs []seg) (any, bool) {
	for _, s := range segs {
		switch {
		case s.index >= 0:
			a, ok := v.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			v = a[s.index]
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = armexpr.Lookup(m, s.key); !ok {
				return nil, false
			}
		}
	}
	return v, true
}

// value is a resolved operand: a value and whether it exists at all
// (a missing property is not the same as a JSON null).
type value struct {
	v  any
	ok bool
}

// collect resolves a path that may contain [*] and appends what it
// selects to out. A wildcard over an empty array selects nothing; a
// wildcard over a missing or non-array value selects one missing value
// when virtual is true (what a field condition over [*] sees) and nothing
// otherwise (what count and field() see). Members missing the rest of the
// path are appended as missing when virtual is true and skipped otherwise.
func collect(v any, ok bool, segs []seg, virtual bool, out []value) []value {
	for i, s := range segs {
		if !ok {
			break
		}
		if s.wildcard {
			arr, isArr := v.([]any)
			if !isArr {
				if virtual {
					out = append(out, value{})
				}
				return out
			}
			rest := segs[i+1:]
			for _, e := range arr {
				out = collect(e, true, rest, virtual, out)
			}
			return out
		}
		if s.index >= 0 {
			a, isArr := v.([]any)
			if !isArr || s.index >= len(a) {
				ok = false
				break
			}
			v = a[s.index]
			continue
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			ok = false
			break
		}
		v, ok = armexpr.Lookup(m, s.key)
	}
	if ok || virtual {
		out = append(out, value{v, ok})
	}
	return out
}
