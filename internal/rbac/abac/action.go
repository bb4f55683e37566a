package abac

import "strings"

// ActionPattern is a compiled action string from a role permission or an
// ActionMatches function, such as "Microsoft.Compute/*" or "*/read".
// Matching is case-insensitive and each '*' matches any run of characters,
// including '/'. The same type serves role permissions (package rbac) and
// conditions, because Azure documents ActionMatches as the permission
// matching logic.
type ActionPattern struct {
	// parts are the lower-cased pieces between '*'s; a pattern without '*'
	// has one part and must equal the action.
	parts []string
	raw   string
}

// CompileAction compiles a pattern. It never fails: any string is a pattern.
func CompileAction(pattern string) ActionPattern {
	return ActionPattern{parts: strings.Split(strings.ToLower(pattern), "*"), raw: pattern}
}

// String returns the pattern as written.
func (p ActionPattern) String() string { return p.raw }

// Wildcards counts the '*'s in the pattern.
func (p ActionPattern) Wildcards() int { return len(p.parts) - 1 }

// MatchLower reports whether an action that is already lower-cased matches.
// Callers checking one action against many patterns lower-case it once.
func (p ActionPattern) MatchLower(action string) bool {
	parts := p.parts
	if len(parts) == 1 {
		return action == parts[0]
	}
	if !strings.HasPrefix(action, parts[0]) {
		return false
	}
	last := parts[len(parts)-1]
	if len(action) < len(parts[0])+len(last) || !strings.HasSuffix(action, last) {
		return false
	}
	rest := action[len(parts[0]) : len(action)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return true
}

// Match reports whether action matches the pattern, ignoring case.
func (p ActionPattern) Match(action string) bool { return p.MatchLower(strings.ToLower(action)) }

// MatchAction is CompileAction(pattern).Match(action).
func MatchAction(pattern, action string) bool { return CompileAction(pattern).Match(action) }
