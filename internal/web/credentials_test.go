package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCredentialsPageExpiringAndAges(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "owner-token")
	rec := do(t, c, ck, http.MethodGet, "/console/credentials", nil)
	page := rec.Body.String()
	for _, want := range []string{"Expired or expiring in the next 30 days", "<td>abcd****wxyz</td>", "<td>ExpiresWithin30Days</td>",
		"Credentials by age", `aria-label="columnchart of the result"`, "under 30 days: 4", "a year or more: 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("credentials page lacks %q:\n%s", want, page)
		}
	}
	if len(f.queries) != 2 || f.queries[0] != expiringQuery+" | P7D" || f.queries[1] != ageQuery+" | P7D" {
		t.Errorf("queries = %q", f.queries)
	}
	// Another workspace than those listed is a 400, and runs nothing.
	rec = do(t, c, ck, http.MethodGet, "/console/credentials?workspace="+url.QueryEscape("/subscriptions/x/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w"), nil)
	if rec.Code != http.StatusBadRequest || len(f.queries) != 2 {
		t.Errorf("foreign workspace: %d, %d queries", rec.Code, len(f.queries))
	}
}

func TestCredentialsPageWithoutQueryRight(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "reader-token")
	rec := do(t, c, ck, http.MethodGet, "/console/credentials", nil)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "InsufficientAccessError") || strings.Contains(rec.Body.String(), "abcd") {
		t.Errorf("without the query right: %d\n%s", rec.Code, rec.Body.String())
	}
}
