package graph

import "testing"

// FuzzParseFilter feeds $filter text to the parser and evaluator: any
// input is a parse error or a filter that evaluates, never a panic.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"displayName eq 'a'", "startswith(displayName,'a') and not(id in ('x','y'))",
		"servicePrincipalNames/any(c:c eq 'api://x')", "tags/any(t:startswith(t,'a'))",
		"((((a eq 1))))", "a eq 'it''s'", "a eq", "(", "a in ()", "not not not a eq null",
	} {
		f.Add(s)
	}
	obj := map[string]any{"displayName": "abc", "id": "x", "servicePrincipalNames": []any{"api://x"}, "tags": []string{"ab"}, "a": 1.0}
	f.Fuzz(func(t *testing.T, s string) {
		n, _, err := parseFilter(s)
		if err == nil && n != nil {
			n.eval(obj)
		}
	})
}
