package scan

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/steward-gov/steward/internal/policy"
)

// decoder turns raw records into the policy value model. Its fast path
// parses the JSON directly into maps, slices and the engine's scalar
// types (what encoding/json with UseNumber followed by policy.Normalize
// gives), sharing the strings of object keys between records; anything it
// does not handle exactly as encoding/json does (invalid JSON, escapes,
// invalid UTF-8, deep nesting, trailing data) goes to decodeObject, which
// also words the errors. One decoder serves one goroutine.
type decoder struct {
	keys map[string]string
	// vals shares short string values (locations, enums, tag values) as
	// the boxed values the documents hold, saving two allocations each.
	// It is a direct-mapped cache (a slot per hash, replaced on a miss):
	// cheaper than a map to probe, and it keeps the values that recur
	// rather than the first few thousand seen.
	vals *valCache
	// keyStack and valStack hold the members of the objects and arrays
	// being parsed, so each is allocated once at its final size.
	keyStack []string
	valStack []any
}

// maxValLen is the longest string value shared.
const maxValLen = 32

// maxKeys bounds the shared key strings (keys beyond it are allocated per
// record), so an estate of unusual keys cannot grow the table without end.
const maxKeys = 4096

// fastMaxDepth is the nesting the fast path handles; deeper records go
// to encoding/json (which refuses beyond 10,000).
const fastMaxDepth = 512

// fastDecode switches the fast path off (a test compares whole scans).
var fastDecode = true

func (d *decoder) decode(raw []byte) (map[string]any, error) {
	if d != nil && fastDecode {
		if m, ok := d.fast(raw); ok {
			return m, nil
		}
	}
	return decodeObject(raw)
}

// fast parses raw; ok false means "use encoding/json".
func (d *decoder) fast(raw []byte) (m map[string]any, ok bool) {
	p := fastParser{b: raw, d: d}
	defer d.resetStacks()
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return nil, false
	}
	v, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	if p.i != len(p.b) {
		return nil, false
	}
	return v.(map[string]any), true
}

// resetStacks empties the stacks, dropping their references.
func (d *decoder) resetStacks() {
	clear(d.valStack)
	d.keyStack, d.valStack = d.keyStack[:0], d.valStack[:0]
}

// popObject builds the object whose keys start at kbase on keyStack and
// values at vbase on valStack.
func (d *decoder) popObject(kbase, vbase int) map[string]any {
	keys, vals := d.keyStack[kbase:], d.valStack[vbase:]
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		m[k] = vals[i] // a repeated key: the last wins, as in encoding/json
	}
	clear(vals)
	d.keyStack, d.valStack = d.keyStack[:kbase], d.valStack[:vbase]
	return m
}

// popArray builds the array whose elements start at base on the stack.
func (d *decoder) popArray(base int) []any {
	vals := d.valStack[base:]
	a := make([]any, len(vals))
	copy(a, vals)
	clear(vals)
	d.valStack = d.valStack[:base]
	return a
}

type fastParser struct {
	b []byte
	i int
	d *decoder
}

func (p *fastParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) value(depth int) (any, bool) {
	if p.i >= len(p.b) || depth > fastMaxDepth {
		return nil, false
	}
	switch c := p.b[p.i]; c {
	case '{':
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return map[string]any{}, true
		}
		// the members go on the stacks; a nested value pushes and pops
		// its own before this one's value is pushed
		kbase, vbase := len(p.d.keyStack), len(p.d.valStack)
		for {
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, false
			}
			k, ok := p.str(true)
			if !ok {
				return nil, false
			}
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, false
			}
			p.i++
			p.space()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			p.d.keyStack = append(p.d.keyStack, k)
			p.d.valStack = append(p.d.valStack, v)
			if done, ok := p.sep('}'); !ok || done {
				if !ok {
					return nil, false
				}
				return p.d.popObject(kbase, vbase), true
			}
		}
	case '[':
		p.i++
		p.space()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return []any{}, true
		}
		base := len(p.d.valStack)
		for {
			p.space()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			p.d.valStack = append(p.d.valStack, v)
			if done, ok := p.sep(']'); !ok || done {
				if !ok {
					return nil, false
				}
				return p.d.popArray(base), true
			}
		}
	case '"':
		return p.strValue()
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return nil, p.literal("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return p.number()
		}
		return nil, false
	}
}

// valSlots is the size of a decoder's value cache.
const valSlots = 4096

type valCache [valSlots]struct {
	s string
	v any
}

// valSlot hashes a short string (FNV-1a) to its cache slot.
func valSlot(b []byte) int {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % valSlots)
}

// strValue reads a string value, shared when short (see decoder.vals).
func (p *fastParser) strValue() (any, bool) {
	start := p.i + 1
	slot := -1
	if end := bytes.IndexByte(p.b[start:], '"'); end >= 0 && end <= maxValLen {
		raw := p.b[start : start+end]
		if p.d.vals == nil {
			p.d.vals = new(valCache)
		}
		slot = valSlot(raw)
		// a cached string has no escapes: a raw string equal to it is
		// that string
		if e := &p.d.vals[slot]; e.v != nil && e.s == string(raw) {
			p.i = start + end + 1
			return e.v, true
		}
	}
	s, ok := p.str(false)
	if !ok {
		return nil, false
	}
	var v any = s
	if slot >= 0 && len(s) == p.i-start-1 {
		p.d.vals[slot].s, p.d.vals[slot].v = s, v
	}
	return v, true
}

// sep reads what follows a member: a comma, or the closing byte (done).
func (p *fastParser) sep(closing byte) (done, ok bool) {
	p.space()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, true
	case closing:
		p.i++
		return true, true
	}
	return false, false
}

func (p *fastParser) literal(word string) bool {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return true
}

// str reads a string without escapes, control characters or invalid
// UTF-8 (those go to encoding/json: it replaces invalid bytes).
func (p *fastParser) str(key bool) (string, bool) {
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		switch {
		case c == '"':
			raw := p.b[start:j]
			if !ascii && !utf8.Valid(raw) {
				return "", false
			}
			p.i = j + 1
			if key && p.d.keys != nil {
				if s, ok := p.d.keys[string(raw)]; ok {
					return s, true
				}
			}
			s := string(raw)
			if key && len(p.d.keys) < maxKeys {
				if p.d.keys == nil {
					p.d.keys = map[string]string{}
				}
				p.d.keys[s] = s
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
	}
	return "", false
}

// number reads a JSON number: int64 when it is an integer that fits,
// else what policy.Normalize makes of encoding/json's Number.
func (p *fastParser) number() (any, bool) {
	start, j := p.i, p.i
	if p.b[j] == '-' {
		j++
	}
	digits := j
	switch {
	case j < len(p.b) && p.b[j] == '0':
		j++
	case j < len(p.b) && p.b[j] >= '1' && p.b[j] <= '9':
		for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
			j++
		}
	default:
		return nil, false
	}
	integer := true
	if j < len(p.b) && p.b[j] == '.' {
		integer = false
		j++
		k := j
		for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
			j++
		}
		if j == k {
			return nil, false
		}
	}
	if j < len(p.b) && (p.b[j] == 'e' || p.b[j] == 'E') {
		integer = false
		j++
		if j < len(p.b) && (p.b[j] == '+' || p.b[j] == '-') {
			j++
		}
		k := j
		for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
			j++
		}
		if j == k {
			return nil, false
		}
	}
	p.i = j
	if integer && j-digits <= 18 {
		var n int64
		for _, c := range p.b[digits:j] {
			n = n*10 + int64(c-'0')
		}
		if p.b[start] == '-' {
			n = -n
		}
		return n, true
	}
	return policy.Normalize(json.Number(p.b[start:j])), true
}
