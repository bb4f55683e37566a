package kql

import (
	"strings"
	"unicode/utf8"
)

// Punycode (RFC 3492) of a whole string, without the "xn--" prefix IDNA
// adds: punycode_from_string and punycode_to_string. The reference's
// examples: 'académie-française' is 'acadmie-franaise-npb1a', '艺术' is
// 'cqv902d'. Both are quadratic in the length, as the algorithm is, so a
// text longer than punycodeMaxBytes fails (an empty result, as for any
// failure): punycode is meant for domain labels of at most 63 characters.

const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
	pcMaxInt      = 1<<31 - 1

	punycodeMaxBytes = 4096
)

func pcAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcThreshold(k, bias int) int {
	switch {
	case k <= bias:
		return pcTMin
	case k >= bias+pcTMax:
		return pcTMax
	}
	return k - bias
}

// punycodeEncode encodes s; ok is false for invalid UTF-8 or an overflow.
func punycodeEncode(s string) (string, bool) {
	if !utf8.ValidString(s) || len(s) > punycodeMaxBytes {
		return "", false
	}
	runes := []rune(s)
	var b strings.Builder
	for _, r := range runes {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	h := b.Len()
	basic := h
	if basic > 0 {
		b.WriteByte('-')
	}
	n, delta, bias := pcInitialN, 0, pcInitialBias
	for h < len(runes) {
		m := pcMaxInt
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m - n) > (pcMaxInt-delta)/(h+1) {
			return "", false
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta > pcMaxInt {
					return "", false
				}
			}
			if int(r) == n {
				q := delta
				for k := pcBase; ; k += pcBase {
					t := pcThreshold(k, bias)
					if q < t {
						break
					}
					b.WriteByte(pcDigit(t + (q-t)%(pcBase-t)))
					q = (q - t) / (pcBase - t)
				}
				b.WriteByte(pcDigit(q))
				bias = pcAdapt(delta, h+1, h == basic)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return b.String(), true
}

// punycodeDecode decodes s; ok is false for text that is not punycode.
func punycodeDecode(s string) (string, bool) {
	if len(s) > punycodeMaxBytes {
		return "", false
	}
	var out []rune
	rest := s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		for _, c := range s[:i] {
			if c >= 0x80 {
				return "", false
			}
			out = append(out, c)
		}
		rest = s[i+1:]
	}
	n, i, bias := pcInitialN, 0, pcInitialBias
	for pos := 0; pos < len(rest); {
		oldi, w := i, 1
		for k := pcBase; ; k += pcBase {
			if pos >= len(rest) {
				return "", false
			}
			c := rest[pos]
			pos++
			var d int
			switch {
			case c >= 'a' && c <= 'z':
				d = int(c - 'a')
			case c >= 'A' && c <= 'Z':
				d = int(c - 'A')
			case c >= '0' && c <= '9':
				d = int(c-'0') + 26
			default:
				return "", false
			}
			if d > (pcMaxInt-i)/w {
				return "", false
			}
			i += d * w
			t := pcThreshold(k, bias)
			if d < t {
				break
			}
			if w > pcMaxInt/(pcBase-t) {
				return "", false
			}
			w *= pcBase - t
		}
		bias = pcAdapt(i-oldi, len(out)+1, oldi == 0)
		if i/(len(out)+1) > pcMaxInt-n {
			return "", false
		}
		n += i / (len(out) + 1)
		i %= len(out) + 1
		if n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF {
			return "", false
		}
		out = append(out[:i], append([]rune{rune(n)}, out[i:]...)...)
		i++
	}
	return string(out), true
}

func init() {
	register(fixed(1, 1, ret(TypeString), func(_ Type, v []Value) Value {
		out, ok := punycodeEncode(str(v, 0))
		if !ok {
			return String("")
		}
		return String(out)
	}), "punycode_from_string")
	register(fixed(1, 1, ret(TypeString), func(_ Type, v []Value) Value {
		out, ok := punycodeDecode(str(v, 0))
		if !ok {
			return String("")
		}
		return String(out)
	}), "punycode_to_string")
}
