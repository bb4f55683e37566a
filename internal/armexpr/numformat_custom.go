package armexpr

import (
	"math"
	"strconv"
	"strings"
)

// isCustomNumberFormat reports whether f is a .NET custom numeric format
// rather than a standard one: a standard format is one letter followed by
// an optional precision (N2, X8), everything else with a digit
// placeholder is custom.
func isCustomNumberFormat(f string) bool {
	c := f[0] | 0x20
	if c >= 'a' && c <= 'z' && strings.Trim(f[1:], "0123456789") == "" {
		return false
	}
	return strings.ContainsAny(f, "0#")
}

// formatCustomNumber applies the common subset of .NET custom numeric
// formats: "0" and "#" digit placeholders, one ".", "," for grouping,
// "%" (scales by 100), quoted or escaped literals, and text before and
// after the placeholders. Only the first ";" section is used, with a
// leading minus for negative numbers.
func formatCustomNumber(f float64, format string) (string, error) {
	if i := strings.IndexByte(format, ';'); i >= 0 {
		format = format[:i]
	}
	var prefix, suffix, body strings.Builder
	seenDigit, inBody := false, true
	percent := false
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(format[i+1:], c)
			if end < 0 {
				return "", errorf(CodeInvalidArgument, "invalid numeric format specifier %q: unterminated quote", format)
			}
			lit := format[i+1 : i+1+end]
			if seenDigit {
				suffix.WriteString(lit)
				inBody = false
			} else {
				prefix.WriteString(lit)
			}
			i += end + 1
		case c == '\\' && i+1 < len(format):
			if seenDigit {
				suffix.WriteByte(format[i+1])
				inBody = false
			} else {
				prefix.WriteByte(format[i+1])
			}
			i++
		case c == '0' || c == '#' || c == '.' || c == ',':
			if !inBody {
				return "", errorf(CodeInvalidArgument, "invalid numeric format specifier %q: placeholders after literal text", format)
			}
			if c == '0' || c == '#' {
				seenDigit = true
			}
			body.WriteByte(c)
		case c == '%':
			percent = true
			if seenDigit {
				suffix.WriteByte(c)
				inBody = false
			} else {
				prefix.WriteByte(c)
			}
		default:
			if seenDigit {
				suffix.WriteByte(c)
				inBody = false
			} else {
				prefix.WriteByte(c)
			}
		}
	}
	intPat, fracPat, _ := strings.Cut(body.String(), ".")
	group := strings.Contains(strings.TrimRight(intPat, ","), ",")
	minInt := strings.Count(intPat, "0")
	minFrac := strings.Count(fracPat, "0")
	maxFrac := minFrac + strings.Count(fracPat, "#")
	if percent {
		f *= 100
	}
	neg := f < 0
	digits := strconv.FormatFloat(roundHalfAway(math.Abs(f), maxFrac), 'f', maxFrac, 64)
	intPart, frac, _ := strings.Cut(digits, ".")
	for len(frac) > minFrac && strings.HasSuffix(frac, "0") {
		frac = frac[:len(frac)-1]
	}
	if intPart == "0" && minInt == 0 {
		intPart = ""
	}
	for len(intPart) < minInt {
		intPart = "0" + intPart
	}
	if group {
		intPart = groupThousands(intPart)
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return prefix.String() + out + suffix.String(), nil
}
