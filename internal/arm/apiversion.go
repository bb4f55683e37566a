package arm

import "strings"

// CompareAPIVersions orders two api-version strings ("2021-04-01",
// "2020-01-01-preview"). Dates compare first; for the same date a preview
// or beta version sorts before the stable one, as ARM treats them. The result
// is -1, 0 or +1. Comparison is case-insensitive.
func CompareAPIVersions(a, b string) int {
	da, sa := splitAPIVersion(a)
	db, sb := splitAPIVersion(b)
	if c := strings.Compare(da, db); c != 0 {
		return c
	}
	switch {
	case sa == sb:
		return 0
	case sa == "":
		return 1
	case sb == "":
		return -1
	}
	return strings.Compare(sa, sb)
}

// IsPreviewAPIVersion reports whether v carries a suffix such as "-preview".
func IsPreviewAPIVersion(v string) bool {
	_, s := splitAPIVersion(v)
	return s != ""
}

func splitAPIVersion(v string) (date, suffix string) {
	v = strings.ToLower(strings.TrimSpace(v))
	if len(v) >= 10 {
		return v[:10], strings.TrimPrefix(v[10:], "-")
	}
	return v, ""
}
