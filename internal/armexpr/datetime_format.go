package armexpr

import (
	"strconv"
	"strings"
)

// standardDateFormats maps .NET's one-letter standard date-time formats
// (invariant culture) to custom patterns; utc marks those that convert
// the value to UTC first.
var standardDateFormats = map[byte]struct {
	pattern string
	utc     bool
}{
	'd': {"MM/dd/yyyy", false},
	'D': {"dddd, dd MMMM yyyy", false},
	'f': {"dddd, dd MMMM yyyy HH:mm", false},
	'F': {"dddd, dd MMMM yyyy HH:mm:ss", false},
	'g': {"MM/dd/yyyy HH:mm", false},
	'G': {"MM/dd/yyyy HH:mm:ss", false},
	'm': {"MMMM dd", false},
	'M': {"MMMM dd", false},
	'o': {"yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", false},
	'O': {"yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK", false},
	'r': {"ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", true},
	'R': {"ddd, dd MMM yyyy HH':'mm':'ss 'GMT'", true},
	's': {"yyyy'-'MM'-'dd'T'HH':'mm':'ss", false},
	't': {"HH:mm", false},
	'T': {"HH:mm:ss", false},
	'u': {"yyyy'-'MM'-'dd HH':'mm':'ss'Z'", true},
	'U': {"dddd, dd MMMM yyyy HH:mm:ss", true},
	'y': {"yyyy MMMM", false},
	'Y': {"yyyy MMMM", false},
}

// formatDateTime formats d with a .NET standard (one letter) or custom
// date-time format string, in the invariant culture.
func formatDateTime(d dateTime, format string) (string, error) {
	if len(format) == 1 {
		std, ok := standardDateFormats[format[0]]
		if !ok {
			return "", errorf(CodeInvalidArgument, "unrecognised standard format specifier '%s'", format)
		}
		if std.utc {
			d.t, d.zone = d.t.UTC(), zoneUTC
		}
		format = std.pattern
	}
	var b strings.Builder
	t := d.t
	for i := 0; i < len(format); {
		c := format[i]
		n := 1
		for i+n < len(format) && format[i+n] == c {
			n++
		}
		switch c {
		case 'y':
			y := t.Year()
			switch {
			case n == 1:
				b.WriteString(strconv.Itoa(y % 100))
			case n == 2:
				b.WriteString(pad(y%100, 2))
			default:
				b.WriteString(pad(y, n))
			}
		case 'M':
			switch n {
			case 1, 2:
				b.WriteString(pad(int(t.Month()), n))
			case 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(t.Month().String())
			}
		case 'd':
			switch n {
			case 1, 2:
				b.WriteString(pad(t.Day(), n))
			case 3:
				b.WriteString(t.Weekday().String()[:3])
			default:
				b.WriteString(t.Weekday().String())
			}
		case 'H':
			b.WriteString(pad(t.Hour(), min(n, 2)))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, min(n, 2)))
		case 'm':
			b.WriteString(pad(t.Minute(), min(n, 2)))
		case 's':
			b.WriteString(pad(t.Second(), min(n, 2)))
		case 'f', 'F':
			if n > 7 {
				return "", errorf(CodeInvalidArgument, "the date-time format %q has more than seven fraction digits", format)
			}
			frac := strconv.Itoa(t.Nanosecond() + 1e9)[1 : 1+n]
			if c == 'F' {
				frac = strings.TrimRight(frac, "0")
				if frac == "" && b.Len() > 0 && strings.HasSuffix(b.String(), ".") {
					s := b.String()
					b.Reset()
					b.WriteString(s[:len(s)-1])
				}
			}
			b.WriteString(frac)
		case 't':
			ampm := "AM"
			if t.Hour() >= 12 {
				ampm = "PM"
			}
			b.WriteString(ampm[:min(n, 2)])
		case 'K':
			if d.zone == zoneOffset {
				b.WriteString(t.Format("-07:00"))
			} else {
				b.WriteByte('Z')
			}
			n = 1
		case 'z':
			_, off := t.Zone()
			sign := '+'
			if off < 0 {
				sign, off = '-', -off
			}
			b.WriteRune(sign)
			switch n {
			case 1:
				b.WriteString(strconv.Itoa(off / 3600))
			case 2:
				b.WriteString(pad(off/3600, 2))
			default:
				b.WriteString(pad(off/3600, 2) + ":" + pad(off%3600/60, 2))
			}
		case '\'', '"':
			end := strings.IndexByte(format[i+1:], c)
			if end < 0 {
				return "", errorf(CodeInvalidArgument, "the date-time format %q has an unterminated quoted string", format)
			}
			b.WriteString(format[i+1 : i+1+end])
			n = end + 2
		case '\\':
			if i+1 < len(format) {
				b.WriteByte(format[i+1])
			}
			n = 2
		default:
			b.WriteString(format[i : i+n])
		}
		i += n
	}
	return b.String(), nil
}

// pad renders v with at least n digits.
func pad(v, n int) string {
	s := strconv.Itoa(v)
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// parseDateArg parses a function's date-time argument.
func parseDateArg(fn string, a []any, i int) (dateTime, error) {
	s, err := argString(fn, a, i)
	if err != nil {
		return dateTime{}, err
	}
	d, ok := parseDateTime(s)
	if !ok {
		return d, errorf(CodeInvalidArgument, "the template function '%s' could not parse %q as a date-time", fn, s)
	}
	return d, nil
}
