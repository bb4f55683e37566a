package cloud

import "strings"

// CanonicalPath undoes two shapes of request path that unmodified Azure
// SDK clients send and ARM accepts: a {scope} parameter escaped whole
// (armlocks' ...ByScope methods send /%2Fsubscriptions%2F{s}/providers/...)
// and an empty {parentResourcePath} (.../providers/Microsoft.Web//sites/a,
// from every "at resource level" method for a top-level resource). It
// takes and returns the escaped path; escaped slashes anywhere else stay
// (the request is refused as a bad URI).
func CanonicalPath(escaped string) string {
	if len(escaped) > 4 && strings.EqualFold(escaped[:4], "/%2f") {
		seg, rest, more := strings.Cut(escaped[1:], "/")
		seg = strings.Trim(strings.ReplaceAll(strings.ReplaceAll(seg, "%2F", "/"), "%2f", "/"), "/")
		escaped = "/" + seg
		if more {
			escaped += "/" + rest
		}
	}
	if !strings.Contains(escaped, "//") {
		return escaped
	}
	segs := strings.Split(escaped, "/")
	out := segs[:0]
	for i, s := range segs {
		if s == "" && i >= 2 && len(out) >= 2 && strings.EqualFold(out[len(out)-2], "providers") && i+1 < len(segs) && segs[i+1] != "" {
			continue // an empty parent resource path after providers/{namespace}
		}
		out = append(out, s)
	}
	return strings.Join(out, "/")
}
