package kql

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// String functions from the Kusto reference that the first pass left out:
// parse_csv, replace_strings, has_any_index, the IPv4 text matches
// (has_ipv4, has_ipv4_prefix, has_any_ipv4, has_any_ipv4_prefix) and the
// guid/array base64 conversions.

// parseCSV reads the first record of a CSV text ("" quoting, embedded line
// feeds inside quotes); a malformed record is null.
func parseCSV(s string) ([]any, bool) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	r.LazyQuotes = false
	rec, err := r.Read()
	if err != nil {
		if s == "" {
			return []any{""}, true
		}
		return nil, false
	}
	out := make([]any, len(rec))
	for i, f := range rec {
		out[i] = f
	}
	return out, true
}

// replaceStrings applies the lookups in their order of precedence: every
// non-overlapping match of the first lookup is taken, then the second's in
// what is left, and so on (the reference's "Thwas was" example); a match
// whose rewrite is not a string stays as it is and blocks later lookups.
func replaceStrings(text string, lookups, rewrites []any) (string, int) {
	type match struct {
		start, end int
		repl       string
		keep       bool
	}
	var ms []match
	taken := make([]bool, len(text))
	for i, l := range lookups {
		ls, ok := l.(string)
		if !ok || ls == "" {
			continue
		}
		var repl string
		keep := true
		if i < len(rewrites) {
			repl, ok = rewrites[i].(string)
			keep = !ok
		}
		for from := 0; from+len(ls) <= len(text); {
			j := strings.Index(text[from:], ls)
			if j < 0 {
				break
			}
			j += from
			free := true
			for k := j; k < j+len(ls); k++ {
				if taken[k] {
					free = false
					break
				}
			}
			if !free {
				from = j + 1
				continue
			}
			for k := j; k < j+len(ls); k++ {
				taken[k] = true
			}
			ms = append(ms, match{j, j + len(ls), repl, keep})
			from = j + len(ls)
		}
	}
	sort.Slice(ms, func(a, b int) bool { return ms[a].start < ms[b].start })
	n := len(text)
	for _, m := range ms {
		if !m.keep {
			n += len(m.repl) - (m.end - m.start)
		}
	}
	return func() string {
		var b strings.Builder
		b.Grow(n)
		at := 0
		for _, m := range ms {
			b.WriteString(text[at:m.start])
			if m.keep {
				b.WriteString(text[m.start:m.end])
			} else {
				b.WriteString(m.repl)
			}
			at = m.end
		}
		b.WriteString(text[at:])
		return b.String()
	}(), n
}

func isAlnumByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// ipv4Tokens finds the IPv4 addresses written in a text: runs of digits and
// dots delimited by characters that are not letters or digits (a sentence's
// final dot is not part of the address), each a valid dotted quad.
func ipv4Tokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if !isDigitByte(s[i]) || i > 0 && (isAlnumByte(s[i-1]) || s[i-1] == '.') {
			i++
			continue
		}
		j := i
		for j < len(s) && (isDigitByte(s[j]) || s[j] == '.') {
			j++
		}
		tok := s[i:j]
		if j < len(s) && isAlnumByte(s[j]) {
			i = j
			continue
		}
		tok = strings.TrimSuffix(tok, ".")
		if validIPv4Prefix(tok, true) {
			out = append(out, tok)
		}
		i = j
	}
	return out
}

// validIPv4Prefix checks a dotted quad (full) or an IPv4 prefix: one to
// three octets each followed by a dot, or a full address.
func validIPv4Prefix(p string, full bool) bool {
	parts := strings.Split(p, ".")
	if !full && len(parts) < 4 {
		if parts[len(parts)-1] != "" {
			return false
		}
		parts = parts[:len(parts)-1]
		if len(parts) == 0 {
			return false
		}
	} else if len(parts) != 4 {
		return false
	}
	for _, x := range parts {
		if x == "" || len(x) > 3 || strings.Trim(x, "0123456789") != "" {
			return false
		}
		if n, _ := strconv.Atoi(x); n > 255 {
			return false
		}
	}
	return true
}

// ipv4Needles reads the searched addresses: string arguments or dynamic
// arrays of strings.
func ipv4Needles(v []Value) []string {
	var out []string
	for _, x := range v {
		s := scalarOf(x)
		switch {
		case s.T == TypeString:
			out = append(out, s.s)
		case s.T == TypeDynamic && !s.IsNull():
			if arr, ok := s.d.([]any); ok {
				for _, e := range arr {
					if es, ok := e.(string); ok {
						out = append(out, es)
					}
				}
			}
		}
	}
	return out
}

func hasIPv4(source string, needles []string, prefix bool) bool {
	var toks []string
	for _, n := range needles {
		if !validIPv4Prefix(n, !prefix) {
			continue
		}
		if toks == nil {
			toks = ipv4Tokens(source)
		}
		for _, t := range toks {
			if t == n || prefix && strings.HasPrefix(t, n) {
				return true
			}
		}
	}
	return false
}

// guidBytes is the .NET Guid.ToByteArray order Kusto's base64 guid
// functions use: the first three fields little-endian.
func guidBytes(g string) ([]byte, bool) {
	h, err := hex.DecodeString(strings.ReplaceAll(g, "-", ""))
	if err != nil || len(h) != 16 {
		return nil, false
	}
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = h[3], h[2], h[1], h[0]
	b[4], b[5] = h[5], h[4]
	b[6], b[7] = h[7], h[6]
	copy(b[8:], h[8:])
	return b, true
}

func guidFromBytes(b []byte) string {
	h := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
	h = append(h, b[8:]...)
	x := hex.EncodeToString(h)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func init() {
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		out, ok := parseCSV(str(v, 0))
		if !ok {
			return Null(TypeDynamic)
		}
		return Dynamic(out)
	}), "parse_csv")

	governedFuncs["replace_strings"] = func(g *governor) fnImpl {
		return fixed(3, 3, ret(TypeString), func(_ Type, v []Value) Value {
			lookups, ok1 := arrArg(v, 1)
			rewrites, ok2 := arrArg(v, 2)
			text := str(v, 0)
			if !ok1 || !ok2 {
				return String(text)
			}
			out, n := replaceStrings(text, lookups, rewrites)
			g.alloc("replace_strings function", int64(n))
			return String(out)
		})
	}

	register(fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		arr, ok := arrArg(v, 1)
		if !ok {
			return Long(-1)
		}
		s := str(v, 0)
		for i, e := range arr {
			if e == nil {
				continue
			}
			if hasTermFold(s, stringOf(Dynamic(e))) {
				return Long(int64(i))
			}
		}
		return Long(-1)
	}), "has_any_index")

	register(fixed(2, 2, ret(TypeBool), func(_ Type, v []Value) Value {
		return Bool(hasIPv4(str(v, 0), []string{str(v, 1)}, false))
	}), "has_ipv4")
	register(fixed(2, 2, ret(TypeBool), func(_ Type, v []Value) Value {
		return Bool(hasIPv4(str(v, 0), []string{str(v, 1)}, true))
	}), "has_ipv4_prefix")
	register(fixed(2, -1, ret(TypeBool), func(_ Type, v []Value) Value {
		return Bool(hasIPv4(str(v, 0), ipv4Needles(v[1:]), false))
	}), "has_any_ipv4")
	register(fixed(2, -1, ret(TypeBool), func(_ Type, v []Value) Value {
		return Bool(hasIPv4(str(v, 0), ipv4Needles(v[1:]), true))
	}), "has_any_ipv4_prefix")

	// a string is refused, as Kusto does ("abcd1231" is the reference's
	// example of what cannot be encoded): convert it with toguid() first
	register(fixed(1, 1, func(a []cexpr) (Type, bool) {
		t := concreteType(a[0].t)
		return TypeString, t == TypeGuid || t == TypeDynamic || t == TypeUnknown
	}, func(_ Type, v []Value) Value {
		s := scalarOf(v[0])
		if s.IsNull() || s.T != TypeGuid && s.T != TypeString {
			return String("")
		}
		b, ok := guidBytes(s.s)
		if !ok {
			return String("")
		}
		return String(base64.StdEncoding.EncodeToString(b))
	}), "base64_encode_fromguid")
	register(fixed(1, 1, ret(TypeGuid), func(_ Type, v []Value) Value {
		b, err := base64.StdEncoding.DecodeString(str(v, 0))
		if err != nil || len(b) != 16 {
			return Null(TypeGuid)
		}
		return Guid(guidFromBytes(b))
	}), "base64_decode_toguid")
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		b, err := base64.StdEncoding.DecodeString(str(v, 0))
		if err != nil {
			return Null(TypeDynamic)
		}
		out := make([]any, len(b))
		for i, c := range b {
			out[i] = int64(c)
		}
		return Dynamic(out)
	}), "base64_decode_toarray")
}

// queryParams splits a URL query ("k1=v1&k2=v2") into a bag, values as
// written (parse_url and parse_urlquery).
func queryParams(raw string) *Bag {
	q := NewBag()
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		q.Set(k, val)
	}
	return q
}

// windowsArgv splits a command line as CommandLineToArgvW does: the first
// argument (the program) ends at the next whitespace, or at its closing
// quote when it starts with one, with no escapes; in the others, whitespace
// outside quotes separates arguments, 2n backslashes before a quote are n
// backslashes and the quote opens or closes a quoted part, 2n+1 are n and a
// literal quote, "" inside a quoted part is a literal quote, and other
// backslashes are literal.
func windowsArgv(s string) []any {
	out := []any{}
	i := 0
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' }
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i >= len(s) {
		return out
	}
	if s[i] == '"' {
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			out = append(out, s[i+1:])
			return out
		}
		out = append(out, s[i+1:i+1+j])
		i += j + 2
	} else {
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return out
		}
		var b strings.Builder
		quoted := false
		for i < len(s) && (quoted || !isSpace(s[i])) {
			c := s[i]
			switch {
			case c == '\\':
				n := 0
				for i < len(s) && s[i] == '\\' {
					n++
					i++
				}
				if i < len(s) && s[i] == '"' {
					b.WriteString(strings.Repeat(`\`, n/2))
					if n%2 == 1 {
						b.WriteByte('"')
						i++
					}
				} else {
					b.WriteString(strings.Repeat(`\`, n))
				}
			case c == '"':
				if quoted && i+1 < len(s) && s[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				quoted = !quoted
				i++
			default:
				b.WriteByte(c)
				i++
			}
		}
		out = append(out, b.String())
	}
}

// cidrList covers the IPv4 range [lo, hi] with the fewest CIDR blocks.
func cidrList(lo, hi uint32) []any {
	out := []any{}
	for cur := uint64(lo); cur <= uint64(hi); {
		size := 32
		for size > 0 {
			block := uint64(1) << (32 - (size - 1))
			if cur%block != 0 || cur+block-1 > uint64(hi) {
				break
			}
			size--
		}
		out = append(out, format4(uint32(cur))+"/"+strconv.Itoa(size))
		cur += uint64(1) << (32 - size)
	}
	return out
}

func init() {
	register(fixed(1, 1, ret(TypeDynamic), func(_ Type, v []Value) Value {
		b := NewBag()
		b.Set("Query Parameters", queryParams(str(v, 0)))
		return Dynamic(b)
	}), "parse_urlquery")

	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) != 2 {
			return cexpr{}, errAt(call, "parse_command_line takes 2 argument(s), got %d", len(args))
		}
		if c, ok := constArg(args[1]); ok && !strings.EqualFold(stringOf(c), "windows") {
			return cexpr{}, errAt(call, `parse_command_line: the only parser type is "windows"`)
		}
		return evalN(TypeDynamic, args, func(_ Type, v []Value) Value {
			if !strings.EqualFold(str(v, 1), "windows") {
				return Null(TypeDynamic)
			}
			return Dynamic(windowsArgv(str(v, 0)))
		}), nil
	}, "parse_command_line")

	register(fixed(2, 2, ret(TypeDynamic), func(_ Type, v []Value) Value {
		lo, lp, ok1 := ipv4Of(str(v, 0))
		hi, hp, ok2 := ipv4Of(str(v, 1))
		if !ok1 || !ok2 || lp != 32 || hp != 32 || lo > hi {
			return Null(TypeDynamic)
		}
		return Dynamic(cidrList(lo, hi))
	}), "ipv4_range_to_cidr_list")
}
