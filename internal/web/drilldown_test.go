package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDrillDownRefusesBadLinks: a link that names no assignment of the
// subscription, or a resource of another subscription, or an OData
// injection, is a 400 before any call to the API.
func TestDrillDownRefusesBadLinks(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "reader-token")
	const sub = "s1"
	asg := "/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/tags"
	for _, q := range []url.Values{
		{},
		{"subscription": {sub}},
		{"subscription": {sub}, "assignment": {"/subscriptions/s2/providers/Microsoft.Authorization/policyAssignments/tags"}},
		{"subscription": {sub}, "assignment": {asg + "' or 1 eq 1 or PolicyAssignmentId eq '"}},
		{"subscription": {"s1/../s2"}, "assignment": {asg}},
		{"subscription": {sub}, "assignment": {"/subscriptions/s1/providers/Microsoft.Authorization/roleAssignments/x"}},
	} {
		for _, page := range []string{"assignment", "resource"} {
			q.Set("resource", "/subscriptions/s1/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/n")
			rec := do(t, c, ck, http.MethodGet, "/console/compliance/"+page+"?"+q.Encode(), nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "The link names no") {
				t.Errorf("%s %v: %d", page, q, rec.Code)
			}
		}
	}
	for _, res := range []string{"/subscriptions/s2/resourceGroups/g/providers/X/y/n", "/subscriptions/s1/x' or '1", ""} {
		q := url.Values{"subscription": {sub}, "assignment": {asg}, "resource": {res}}
		if rec := do(t, c, ck, http.MethodGet, "/console/compliance/resource?"+q.Encode(), nil); rec.Code != http.StatusBadRequest {
			t.Errorf("resource %q: %d", res, rec.Code)
		}
	}
}

func TestODataString(t *testing.T) {
	if got := odataString("it's"); got != "'it''s'" {
		t.Errorf("odataString: %s", got)
	}
}

func TestMissingTable(t *testing.T) {
	const meaning = "no states here"
	for msg, want := range map[string]string{
		"The query was refused: BadArgumentError: A semantic error occurred: unknown table or name 'PolicyComplianceStates_CL'": meaning,
		"The query was refused: SemanticError: Failed to resolve table or column expression named 'PolicyComplianceStates_CL'":  meaning,
		"The query was refused: SemanticError: Failed to resolve table or column expression named 'Other_CL'":                   "",
		"The query was refused: Forbidden: The user does not have access to PolicyComplianceStates_CL":                          "",
	} {
		if want == "" {
			want = msg
		}
		if got := missingTable(msg, "PolicyComplianceStates_CL", meaning); got != want {
			t.Errorf("%q: %q", msg, got)
		}
	}
}
