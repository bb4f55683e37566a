package authorization

import (
	"regexp"
	"strings"

	"github.com/steward-gov/steward/internal/arm"
)

// filter is a parsed $filter of the Microsoft.Authorization lists: a
// conjunction of function clauses (atScope(), atScopeAndBelow(),
// assignedTo('x')) and equality clauses (field eq 'value').
type filter struct {
	funcs map[string]string // lower-case function name -> argument ("" for none)
	eq    map[string]string // lower-case field -> value
}

const maxFilterLen = 2048

var (
	andSplit   = regexp.MustCompile(`(?i)\s+and\s+`)
	funcClause = regexp.MustCompile(`^([A-Za-z]+)\(\s*(?:'((?:[^']|'')*)')?\s*\)$`)
	eqClause   = regexp.MustCompile(`^([A-Za-z/]+)\s+eq\s+'((?:[^']|'')*)'$`)
)

// parseFilter parses s, accepting only the functions and fields listed
// (lower-case). Anything else is a 400 InvalidFilterInQueryString.
func parseFilter(s string, funcs, fields []string) (filter, error) {
	f := filter{funcs: map[string]string{}, eq: map[string]string{}}
	s = strings.TrimSpace(s)
	if s == "" {
		return f, nil
	}
	if len(s) > maxFilterLen {
		return f, badFilter(s[:64] + "...")
	}
	for _, cl := range andSplit.Split(s, -1) {
		cl = strings.TrimSpace(cl)
		if m := funcClause.FindStringSubmatch(cl); m != nil && contains(funcs, strings.ToLower(m[1])) {
			f.funcs[strings.ToLower(m[1])] = strings.ReplaceAll(m[2], "''", "'")
			continue
		}
		if m := eqClause.FindStringSubmatch(cl); m != nil && contains(fields, strings.ToLower(m[1])) {
			f.eq[strings.ToLower(m[1])] = strings.ReplaceAll(m[2], "''", "'")
			continue
		}
		return f, badFilter(s)
	}
	return f, nil
}

func (f filter) has(fn string) bool { _, ok := f.funcs[fn]; return ok }

func badFilter(s string) *arm.Error {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return arm.BadRequest("InvalidFilterInQueryString", "The filter '%s' is not supported for this list.", s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
