package armexpr

import (
	"math"
	"strconv"
	"strings"
)

// formatNumber applies a .NET standard numeric format string (C, D, E, F,
// G, N, P, R, X with an optional precision) in the invariant culture.
// i holds the value when isInt, for formats that only take integers.
func formatNumber(f float64, i int64, isInt bool, format string) (string, error) {
	if isCustomNumberFormat(format) {
		if isInt {
			f = float64(i)
		}
		return formatCustomNumber(f, format)
	}
	spec := format[0]
	prec := -1
	if len(format) > 1 {
		p, err := strconv.Atoi(format[1:])
		if err != nil || p < 0 || p > 999 {
			return "", errorf(CodeInvalidArgument, "invalid numeric format specifier %q", format)
		}
		prec = p
	}
	precOr := func(def int) int {
		if prec < 0 {
			return def
		}
		return prec
	}
	switch spec {
	case 'D', 'd':
		if !isInt {
			return "", errorf(CodeInvalidArgument, "invalid numeric format specifier %q for a non-integer", format)
		}
		neg := i < 0
		digits := strconv.FormatUint(absInt(i), 10)
		for len(digits) < prec {
			digits = "0" + digits
		}
		if neg {
			digits = "-" + digits
		}
		return digits, nil
	case 'X', 'x':
		if !isInt {
			return "", errorf(CodeInvalidArgument, "invalid numeric format specifier %q for a non-integer", format)
		}
		h := strconv.FormatUint(uint64(i), 16)
		if spec == 'X' {
			h = strings.ToUpper(h)
		}
		for len(h) < prec {
			h = "0" + h
		}
		return h, nil
	case 'F', 'f':
		return strconv.FormatFloat(roundHalfAway(f, precOr(2)), 'f', precOr(2), 64), nil
	case 'N', 'n':
		return groupThousands(strconv.FormatFloat(roundHalfAway(f, precOr(2)), 'f', precOr(2), 64)), nil
	case 'P', 'p':
		return groupThousands(strconv.FormatFloat(roundHalfAway(f*100, precOr(2)), 'f', precOr(2), 64)) + " %", nil
	case 'C', 'c':
		s := groupThousands(strconv.FormatFloat(roundHalfAway(math.Abs(f), precOr(2)), 'f', precOr(2), 64))
		if f < 0 {
			return "-¤" + s, nil
		}
		return "¤" + s, nil
	case 'E', 'e':
		s := strconv.FormatFloat(f, 'e', precOr(6), 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = exp[1:]
		for len(exp) < 3 {
			exp = "0" + exp
		}
		return mant + string(spec) + string(sign) + exp, nil
	case 'G', 'g', 'R', 'r':
		if isInt && prec < 0 {
			return strconv.FormatInt(i, 10), nil
		}
		if prec <= 0 {
			return formatFloat(f), nil
		}
		return strings.ToUpper(strconv.FormatFloat(f, 'g', prec, 64)), nil
	}
	return "", errorf(CodeInvalidArgument, "invalid numeric format specifier %q", format)
}

func absInt(i int64) uint64 {
	if i < 0 {
		return uint64(-i)
	}
	return uint64(i)
}

// roundHalfAway rounds to prec decimals with ties away from zero, as
// .NET's numeric formatting does, before strconv prints the digits.
func roundHalfAway(f float64, prec int) float64 {
	if prec > 15 || math.IsInf(f, 0) || f != f {
		return f
	}
	p := math.Pow10(prec)
	r := math.Round(f * p)
	if math.IsInf(r, 0) {
		return f
	}
	return r / p
}

// groupThousands inserts "," between groups of three integer digits.
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
