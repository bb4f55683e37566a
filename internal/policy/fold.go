package policy

import (
	"strings"

	"golang.org/x/text/cases"
)

// foldString applies full Unicode case folding ("Straße" and "STRASSE"
// fold to the same string, as do ligatures and their letters). Simple
// folding (strings.EqualFold) is used for ASCII; this slower path only
// runs for non-ASCII text.
func foldString(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return cases.Fold().String(s)
}

// equalFold compares strings case-insensitively with full folding.
func equalFold(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if isASCII(a) && isASCII(b) {
		return false
	}
	return foldString(a) == foldString(b)
}
