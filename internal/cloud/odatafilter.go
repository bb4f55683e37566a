package cloud

import (
	"regexp"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// FuncFilter is a parsed $filter of the Microsoft.Authorization lists: a
// conjunction of function clauses (atScope(), atScopeAndBelow(),
// assignedTo('x')) and equality clauses (field eq 'value').
type FuncFilter struct {
	// Funcs maps a lower-case function name to its argument ("" for none).
	Funcs map[string]string
	// Eq maps a lower-case field name to the value it must equal.
	Eq map[string]string
}

const maxFuncFilterLen = 2048

var (
	funcAndSplit   = regexp.MustCompile(`(?i)\s+and\s+`)
	funcFilterCall = regexp.MustCompile(`^([A-Za-z]+)\(\s*(?:'((?:[^']|'')*)')?\s*\)$`)
	funcFilterEq   = regexp.MustCompile(`^([A-Za-z/]+)\s+eq\s+'((?:[^']|'')*)'$`)
)

// ParseFuncFilter parses s, accepting only the functions and fields listed
// (lower-case). Anything else is a 400 InvalidFilterInQueryString. It never
// panics and caps the filter's length.
func ParseFuncFilter(s string, funcs, fields []string) (FuncFilter, error) {
	f := FuncFilter{Funcs: map[string]string{}, Eq: map[string]string{}}
	s = strings.TrimSpace(s)
	if s == "" {
		return f, nil
	}
	if len(s) > maxFuncFilterLen {
		return f, badFuncFilter(s[:64] + "...")
	}
	for _, cl := range funcAndSplit.Split(s, -1) {
		cl = strings.TrimSpace(cl)
		if m := funcFilterCall.FindStringSubmatch(cl); m != nil && containsString(funcs, strings.ToLower(m[1])) {
			f.Funcs[strings.ToLower(m[1])] = strings.ReplaceAll(m[2], "''", "'")
			continue
		}
		if m := funcFilterEq.FindStringSubmatch(cl); m != nil && containsString(fields, strings.ToLower(m[1])) {
			f.Eq[strings.ToLower(m[1])] = strings.ReplaceAll(m[2], "''", "'")
			continue
		}
		return f, badFuncFilter(s)
	}
	return f, nil
}

// Has reports whether the filter calls the function fn (lower-case).
func (f FuncFilter) Has(fn string) bool { _, ok := f.Funcs[fn]; return ok }

func badFuncFilter(s string) *arm.Error {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return arm.BadRequest("InvalidFilterInQueryString", "The filter '%s' is not supported for this list.", s)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
