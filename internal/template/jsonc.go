package template

import "bytes"

// StandardJSON rewrites the lenient JSON that ARM accepts in templates and
// deployment requests into standard JSON: // and /* */ comments are
// dropped, bare property names (az 2.45 sends `template:{...}`) are
// quoted, and trailing commas before } or ] are removed. Strings are left
// untouched. Input that is already standard JSON comes back equal.
func StandardJSON(in []byte) []byte {
	out := make([]byte, 0, len(in)+16)
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(in) && in[j] != '"' {
				if in[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(in) {
				return append(out, in[i:]...)
			}
			out = append(out, in[i:j+1]...)
			i = j
		case c == '/' && i+1 < len(in) && in[i+1] == '/':
			for i < len(in) && in[i] != '\n' {
				i++
			}
			if i < len(in) {
				out = append(out, '\n')
			}
		case c == '/' && i+1 < len(in) && in[i+1] == '*':
			end := bytes.Index(in[i+2:], []byte("*/"))
			if end < 0 {
				return out
			}
			// Keep the newlines so that line numbers stay right.
			out = append(out, bytes.Repeat([]byte("\n"), bytes.Count(in[i:i+2+end+2], []byte("\n")))...)
			i += 2 + end + 1
		case c == ',':
			j := i + 1
			for j < len(in) && (in[j] == ' ' || in[j] == '\t' || in[j] == '\r' || in[j] == '\n') {
				j++
			}
			if j < len(in) && (in[j] == '}' || in[j] == ']') {
				continue
			}
			out = append(out, c)
		case isIdentStart(c) && bareKeyContext(out):
			j := i
			for j < len(in) && isIdentPart(in[j]) {
				j++
			}
			k := j
			for k < len(in) && (in[k] == ' ' || in[k] == '\t') {
				k++
			}
			if k < len(in) && in[k] == ':' {
				out = append(out, '"')
				out = append(out, in[i:j]...)
				out = append(out, '"')
				i = j - 1
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// bareKeyContext reports whether the last significant byte written opens
// an object or separates its members, where a property name may follow.
func bareKeyContext(out []byte) bool {
	for i := len(out) - 1; i >= 0; i-- {
		switch out[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', ',':
			return true
		}
		return false
	}
	return false
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }
