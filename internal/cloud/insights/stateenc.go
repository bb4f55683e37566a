package insights

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendStored appends v as json.Marshal encodes it, byte for byte: the
// fields in order, omitempty as tagged, map keys sorted, strings escaped
// as encoding/json escapes them (HTML characters included). A scan
// encodes every state it evaluates; reflection was a tenth of a first
// scan's allocations. The expressions, rare and nested, go through
// json.Marshal.
func appendStored(b []byte, v *stored) ([]byte, error) {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, v.T, 10)
	b = appendField(b, "r", v.R, true)
	b = appendInts(b, "ru", v.RU)
	b = appendField(b, "rt", v.RT, true)
	b = appendField(b, "l", v.L, true)
	if len(v.Tg) > 0 {
		b = append(b, `,"tg":{`...)
		keys := make([]string, 0, len(v.Tg))
		for k := range v.Tg {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, v.Tg[k])
		}
		b = append(b, '}')
	}
	b = appendField(b, "a", v.A, true)
	b = appendInts(b, "au", v.AU)
	b = appendField(b, "d", v.D, false)
	b = appendField(b, "s", v.S, true)
	b = appendField(b, "f", v.F, true)
	b = appendField(b, "e", v.E, true)
	b = appendList(b, "g", v.G)
	b = appendField(b, "c", v.C, false)
	b = appendList(b, "m", v.M)
	if len(v.X) > 0 {
		x, err := json.Marshal(v.X)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"x":`...)
		b = append(b, x...)
	}
	b = appendField(b, "rc", v.RC, true)
	return append(b, '}'), nil
}

// appendField appends ,"name":"s"; with omitEmpty, nothing for "".
func appendField(b []byte, name, s string, omitEmpty bool) []byte {
	if omitEmpty && s == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, s)
}

// appendInts appends ,"name":[...] for a non-empty list.
func appendInts(b []byte, name string, list []int) []byte {
	return appendArray(b, name, list, func(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) })
}

// appendList appends ,"name":[...] for a non-empty list.
func appendList(b []byte, name string, list []string) []byte {
	return appendArray(b, name, list, appendJSONString)
}

// appendArray appends ,"name":[...], each element by elem, for a
// non-empty list.
func appendArray[T any](b []byte, name string, list []T, elem func([]byte, T) []byte) []byte {
	if len(list) == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':', '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, v)
	}
	return append(b, ']')
}

// appendJSONString appends s quoted as encoding/json quotes a string:
// ", \ and control characters escaped (\b, \f, \n, \r, \t by name), <, >
// and & as \u escapes, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
