package kql

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// str returns argument i as a string ("" for null), as string functions see
// their arguments.
func str(v []Value, i int) string {
	if i >= len(v) {
		return ""
	}
	return stringOf(v[i])
}

func intArg(v []Value, i int, def int64) (int64, bool) {
	if i >= len(v) {
		return def, true
	}
	x := scalarOf(v[i])
	if x.IsNull() {
		return 0, false
	}
	if x.T == TypeReal || x.T == TypeDecimal {
		return int64(x.real()), true
	}
	return x.i, true
}

func strFn(f func(s string) string) fnImpl {
	return fixed(1, 1, ret(TypeString), func(_ Type, v []Value) Value { return String(f(str(v, 0))) })
}

func init() {
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value { return Long(int64(utf8.RuneCountInString(str(v, 0)))) }), "strlen")
	register(fixed(1, 1, ret(TypeLong), func(_ Type, v []Value) Value { return Long(int64(len(str(v, 0)))) }), "string_size")
	register(strFn(strings.ToLower), "tolower")
	register(strFn(strings.ToUpper), "toupper")
	register(strFn(func(s string) string {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r)
	}), "reverse")
	register(strFn(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }), "base64_encode_tostring", "base64_encodestring")
	register(strFn(func(s string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return ""
		}
		return string(b)
	}), "base64_decode_tostring", "base64_decodestring")
	register(strFn(url.QueryEscape), "url_encode", "url_encode_component")
	register(strFn(func(s string) string { u, _ := url.QueryUnescape(s); return u }), "url_decode")
	register(strFn(func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }), "hash_sha256")
	register(fixed(2, 3, ret(TypeString), func(_ Type, v []Value) Value {
		r := []rune(str(v, 0))
		start, ok := intArg(v, 1, 0)
		if !ok {
			return String("")
		}
		n, ok := intArg(v, 2, int64(len(r)))
		if !ok {
			return String("")
		}
		if start < 0 {
			// a negative start counts from the end
			start += int64(len(r))
			if start < 0 {
				return String("")
			}
		}
		if start >= int64(len(r)) || n <= 0 {
			return String("")
		}
		end := start + n
		if end > int64(len(r)) {
			end = int64(len(r))
		}
		return String(string(r[start:end]))
	}), "substring")
	trimFn := func(left, right bool) fnImpl {
		return fixed(2, 2, ret(TypeString), func(_ Type, v []Value) Value {
			s := str(v, 1)
			p := str(v, 0)
			if left {
				// one match is removed at each end, as Kusto does
				if re, err := regexFor("^(?:" + p + ")"); err == nil {
					s = re.ReplaceAllString(s, "")
				}
			}
			if right {
				if re, err := regexFor("(?:" + p + ")$"); err == nil {
					s = re.ReplaceAllString(s, "")
				}
			}
			return String(s)
		})
	}
	register(trimFn(true, true), "trim")
	register(trimFn(true, false), "trim_start")
	register(trimFn(false, true), "trim_end")
	register(fixed(3, 3, ret(TypeString), func(_ Type, v []Value) Value {
		re, err := regexFor(str(v, 1))
		if err != nil {
			return String(str(v, 0))
		}
		return String(re.ReplaceAllString(str(v, 0), kustoRewrite(str(v, 2))))
	}), "replace_regex")
	register(fixed(3, 3, ret(TypeString), func(_ Type, v []Value) Value {
		re, err := regexFor(str(v, 0))
		if err != nil {
			return String(str(v, 2))
		}
		return String(re.ReplaceAllString(str(v, 2), kustoRewrite(str(v, 1))))
	}), "replace")
	register(fixed(2, 3, ret(TypeDynamic), func(_ Type, v []Value) Value {
		s, d := str(v, 0), str(v, 1)
		var parts []string
		if d == "" {
			parts = []string{s}
		} else {
			parts = strings.Split(s, d)
		}
		arr := make([]any, len(parts))
		for i, p := range parts {
			arr[i] = p
		}
		if len(v) > 2 {
			i, ok := intArg(v, 2, 0)
			if !ok || i < 0 || i >= int64(len(arr)) {
				return Null(TypeDynamic)
			}
			return Dynamic([]any{arr[i]})
		}
		return Dynamic(arr)
	}), "split")
	register(fixed(2, 5, ret(TypeLong), func(_ Type, v []Value) Value {
		if v[0].IsNull() && v[0].T != TypeString {
			return Null(TypeLong)
		}
		s := []rune(str(v, 0))
		look := []rune(str(v, 1))
		if len(look) == 0 {
			return Null(TypeLong)
		}
		start, _ := intArg(v, 2, 0)
		length, _ := intArg(v, 3, -1)
		occ, _ := intArg(v, 4, 1)
		if start < 0 {
			start += int64(len(s))
			if start < 0 {
				start = 0
			}
		}
		if start > int64(len(s)) {
			return Long(-1)
		}
		end := int64(len(s))
		if length >= 0 && start+length < end {
			end = start + length
		}
		seen := int64(0)
		for i := start; i+int64(len(look)) <= end; i++ {
			if string(s[i:i+int64(len(look))]) == string(look) {
				seen++
				if seen == occ {
					return Long(i)
				}
			}
		}
		return Long(-1)
	}), "indexof")
	register(fixed(2, 3, ret(TypeLong), func(_ Type, v []Value) Value {
		s, sub := str(v, 0), str(v, 1)
		if str(v, 2) == "regex" {
			re, err := regexFor(sub)
			if err != nil {
				return Null(TypeLong)
			}
			return Long(int64(len(re.FindAllStringIndex(s, -1))))
		}
		if sub == "" {
			return Long(0)
		}
		return Long(int64(strings.Count(s, sub)))
	}), "countof")
	register(func(call *Call, args []cexpr) (cexpr, error) {
		if len(args) < 3 || len(args) > 4 {
			return cexpr{}, errAt(call, "extract takes 3 or 4 arguments")
		}
		t := TypeString
		var conv func(Value) Value
		if len(args) == 4 {
			if !args[3].konst {
				return cexpr{}, errAt(call, "extract's type argument must be typeof(T)")
			}
			t = typeByName[args[3].f(nil).s]
			conv = converter(t)
			args = args[:3]
		}
		return evalN(t, args, func(t Type, v []Value) Value {
			re, err := regexFor(str(v, 0))
			g, ok := intArg(v, 1, 0)
			if err != nil || !ok {
				return Null(t)
			}
			m := re.FindStringSubmatch(str(v, 2))
			if m == nil || int(g) >= len(m) || g < 0 {
				if t == TypeString {
					return String("")
				}
				return Null(t)
			}
			if conv != nil {
				return conv(String(m[g]))
			}
			return String(m[g])
		}), nil
	}, "extract")
	register(fixed(2, 3, func(a []cexpr) (Type, bool) {
		// extract_all needs a capture group (agent-string-ops-0022)
		if a[0].konst {
			re, err := regexFor(a[0].f(nil).s)
			if err != nil || re.NumSubexp() == 0 {
				return TypeUnknown, false
			}
		}
		return TypeDynamic, true
	}, func(_ Type, v []Value) Value {
		re, err := regexFor(str(v, 0))
		if err != nil {
			return Null(TypeDynamic)
		}
		text := str(v, len(v)-1)
		var groups []int64
		if len(v) == 3 {
			if arr, ok := v[1].d.([]any); ok {
				for _, g := range arr {
					if n, ok := g.(int64); ok {
						groups = append(groups, n)
					}
				}
			}
		}
		ms := re.FindAllStringSubmatch(text, -1)
		if len(ms) == 0 {
			return Null(TypeDynamic)
		}
		out := make([]any, 0, len(ms))
		for _, m := range ms {
			switch {
			case groups != nil:
				row := make([]any, 0, len(groups))
				for _, g := range groups {
					if int(g) < len(m) {
						row = append(row, m[g])
					}
				}
				out = append(out, row)
			case len(m) == 1:
				out = append(out, m[0])
			case len(m) == 2:
				out = append(out, m[1])
			default:
				row := make([]any, 0, len(m)-1)
				for _, g := range m[1:] {
					row = append(row, g)
				}
				out = append(out, row)
			}
		}
		return Dynamic(out)
	}), "extract_all")
	register(fixed(2, 2, ret(TypeLong), func(_ Type, v []Value) Value {
		return Long(int64(strings.Compare(str(v, 0), str(v, 1))))
	}), "strcmp")
	register(fixed(1, 1, ret(TypeBool), func(_ Type, v []Value) Value {
		_, err := regexp.Compile(str(v, 0))
		return Bool(err == nil)
	}), "isvalid_regex")
}

// kustoRewrite turns Kusto's \1 group references into Go's ${1}.
func kustoRewrite(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
			continue
		}
		if s[i] == '$' {
			b.WriteString("$$")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
