package armexpr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxAlignment is .NET's limit on the width of a composite format item.
const maxAlignment = 1000000

func init() {
	register("format", 1, -1, fnFormat)
}

// fnFormat implements .NET composite formatting: {index[,alignment][:format]}
// items, with {{ and }} for literal braces, in the invariant culture.
func fnFormat(_ *EvalContext, a []any) (any, error) {
	tmpl, err := argString("format", a, 0)
	if err != nil {
		return nil, err
	}
	args := a[1:]
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		c := tmpl[i]
		switch {
		case c == '{' && i+1 < len(tmpl) && tmpl[i+1] == '{':
			b.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(tmpl) && tmpl[i+1] == '}':
			b.WriteByte('}')
			i += 2
		case c == '}':
			return nil, errorf(CodeInvalidArgument, "format string has an unmatched closing brace at offset %d", i)
		case c == '{':
			end := strings.IndexByte(tmpl[i:], '}')
			if end < 0 {
				return nil, errorf(CodeInvalidArgument, "format string has an unmatched opening brace at offset %d", i)
			}
			s, err := formatItem(tmpl[i+1:i+end], args)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
			if b.Len() > maxStringResult {
				return nil, tooLong("format")
			}
			i += end + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// formatItem formats one "index[,alignment][:format]" item.
func formatItem(item string, args []any) (string, error) {
	spec, numFormat, hasFormat := strings.Cut(item, ":")
	idxText, alignText, hasAlign := strings.Cut(spec, ",")
	idxText = strings.TrimSpace(idxText)
	idx, err := strconv.Atoi(idxText)
	if err != nil || idx < 0 || idxText[0] == '+' || idxText[0] == '-' {
		return "", errorf(CodeInvalidArgument, "format string has an invalid placeholder {%s}", item)
	}
	if idx >= len(args) {
		return "", errorf(CodeInvalidArgument, "format placeholder {%d} references argument index %d, but only %d arguments follow the format string", idx, idx, len(args))
	}
	align := 0
	if hasAlign {
		t := strings.TrimSpace(alignText)
		if t == "" {
			return "", errorf(CodeInvalidArgument, "format item {%s} has an empty alignment value", item)
		}
		if align, err = strconv.Atoi(t); err != nil {
			return "", errorf(CodeInvalidArgument, "format item {%s} has an invalid alignment %q", item, alignText)
		}
		if align >= maxAlignment || align <= -maxAlignment {
			return "", errorf(CodeLimitExceeded, "format item {%s} has an alignment that exceeds maximum allowed (%d)", item, maxAlignment-1)
		}
	}
	var s string
	if hasFormat && numFormat != "" {
		s, err = formatValue(args[idx], numFormat)
	} else {
		s, err = formatValue(args[idx], "")
	}
	if err != nil {
		return "", err
	}
	if w := abs(align) - utf8.RuneCountInString(s); w > 0 {
		if align > 0 {
			s = strings.Repeat(" ", w) + s
		} else {
			s += strings.Repeat(" ", w)
		}
	}
	return s, nil
}

// formatValue renders one argument as .NET would with a format string:
// Booleans as True/False, null as nothing, numbers with standard numeric
// formats, and other values ignoring the format.
func formatValue(v any, f string) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case bool:
		if v {
			return "True", nil
		}
		return "False", nil
	case int64:
		if f == "" {
			return strconv.FormatInt(v, 10), nil
		}
		return formatNumber(float64(v), v, true, f)
	case float64:
		if f == "" {
			return formatFloat(v), nil
		}
		return formatNumber(v, 0, false, f)
	}
	return toText(v)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
