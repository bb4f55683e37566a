package authorization_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/cloud"
)

// TestMalformedRequestsGetARMErrors sends malformed bodies, names, filters
// and scopes to every route of the two providers and expects 4xx ARM
// envelopes, never a 5xx.
func TestMalformedRequestsGetARMErrors(t *testing.T) {
	e := newEnv(t)
	sub := "/subscriptions/" + e.sub
	auth := "/providers/Microsoft.Authorization/"
	paths := []string{
		sub + auth + "roleDefinitions/not-a-guid", sub + auth + "roleDefinitions/7f3a2b4e-0000-4000-8000-000000000001",
		sub + auth + "roleAssignments/not-a-guid", sub + auth + "roleAssignments/7f3a2b4e-0000-4000-8000-000000000002",
		sub + auth + "denyAssignments/x", sub + auth + "permissions",
		sub + auth + "policyDefinitions/p", sub + auth + "policySetDefinitions/s",
		sub + auth + "policyAssignments/a", sub + auth + "policyExemptions/x",
		sub + "/resourceGroups/missing" + auth + "policyAssignments/a", sub + "/resourceGroups/missing" + auth + "roleAssignments/7f3a2b4e-0000-4000-8000-000000000003",
		auth + "policyDefinitions/p", auth + "policySetDefinitions/s", auth + "roleDefinitions/x",
		"/providers/Microsoft.Management/managementGroups/none" + auth + "policyAssignments/a",
	}
	bodies := []string{``, `{`, `[]`, `null`, `{"properties":null}`, `{"properties":[]}`, `{"properties":{"policyRule":7}}`,
		`{"properties":{"roleDefinitionId":5,"principalId":{}}}`, `{"properties":{"permissions":"x","assignableScopes":[1]}}`,
		`{"properties":{"policyDefinitionId":"/x/y","parameters":"p"}}`, `{"properties":{"policyAssignmentId":7,"exemptionCategory":1}}`,
		`{"identity":{"type":"Weird"},"properties":{"policyDefinitionId":"` + sub + auth + `policyDefinitions/p"}}`,
		`{"properties":{"policyDefinitions":[{"policyDefinitionId":null}]}}`}
	for _, p := range paths {
		for _, method := range []string{"GET", "DELETE"} {
			r, b := e.do(t, method, p+"?api-version=2023-04-01", nil)
			check(t, method, p, "", r, b)
		}
		for _, body := range bodies {
			r, b := e.do(t, "PUT", p+"?api-version=2023-04-01", []byte(body))
			check(t, "PUT", p, body, r, b)
		}
	}
	for _, f := range []string{"atScope(", "principalId eq 'x", "roleName eq 'a' or type eq 'b'", strings.Repeat("atScope() and ", 400) + "atScope()", "assignedTo()", "'"} {
		for _, p := range []string{sub + auth + "roleAssignments", sub + auth + "roleDefinitions", sub + auth + "policyAssignments", sub + auth + "denyAssignments", sub + auth + "policyDefinitions"} {
			r, b := e.do(t, "GET", p+"?api-version=2023-04-01&$filter="+urlEscape(f), nil)
			check(t, "GET", p, f, r, b)
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("GET %s $filter=%.40q: %d, want 400", p, f, r.StatusCode)
			}
		}
	}
}

func check(t *testing.T, method, path, body string, r *http.Response, b []byte) {
	t.Helper()
	if r.StatusCode >= 500 {
		t.Errorf("%s %s %.60q: %d %s", method, path, body, r.StatusCode, b)
	}
	if r.StatusCode >= 400 && !strings.Contains(string(b), `"code"`) {
		t.Errorf("%s %s %.60q: %d without an ARM envelope: %s", method, path, body, r.StatusCode, b)
	}
}

func urlEscape(s string) string {
	r := strings.NewReplacer(" ", "%20", "'", "%27", "(", "%28", ")", "%29", "&", "%26")
	return r.Replace(s)
}

// FuzzParseFuncFilter checks that the Microsoft.Authorization $filter
// parser never panics and that what it accepts names only allowed
// functions and fields.
func FuzzParseFuncFilter(f *testing.F) {
	for _, s := range []string{"atScope()", "principalId eq 'abc'", "assignedTo('x') and atScope()", "roleName eq 'O''Brien'",
		"type eq 'BuiltInRole'", "atScopeAndBelow()", "policyType eq 'Custom' and category eq 'IAM'", "", "eq", "(('"} {
		f.Add(s)
	}
	funcs := []string{"atscope", "assignedto", "atscopeandbelow"}
	fields := []string{"principalid", "rolename", "type"}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := cloud.ParseFuncFilter(s, funcs, fields)
		if err != nil {
			return
		}
		for fn := range got.Funcs {
			if !contains(funcs, fn) {
				t.Errorf("%q: accepted function %q", s, fn)
			}
		}
		for fl := range got.Eq {
			if !contains(fields, fl) {
				t.Errorf("%q: accepted field %q", s, fl)
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
