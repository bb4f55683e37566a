package server

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestConsoleCatalogForThePlatformTeam: a member of the platform team's
// group reads the vending catalog in the console and, after a step-up,
// authorizes a colleague for a subscription; the catalog API refuses
// anyone else, and a change without a recent second factor is sent to the
// step-up and changes nothing.
func TestConsoleCatalogForThePlatformTeam(t *testing.T) {
	v := newVendingEnvWith(t, vendingSetup, WebService())
	s := v.s
	ctx := context.Background()
	pam, err := s.Identity.CreateUser(ctx, s.Bootstrap.TenantID, "pam@steward.test", "Pam", "Pam-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	ron, err := s.Identity.CreateUser(ctx, s.Bootstrap.TenantID, "ron@steward.test", "Ron", "Ron-Password-1")
	if err != nil {
		t.Fatal(err)
	}
	platform, err := s.Identity.CreateGroup(ctx, s.Bootstrap.TenantID, "platform team", pam.ID)
	if err != nil {
		t.Fatal(err)
	}
	v.plane.Internal.AdminGroups = []string{platform.ID} // as --vending-platform-group does at start
	browser := func() *consoleBrowser { return newConsoleBrowser(t, s) }

	// Someone outside the platform team is refused by the catalog API.
	rb := browser()
	p := rb.submit(rb.get("/console/catalog"), url.Values{"login": {"ron@steward.test"}, "passwd": {"Ron-Password-1"}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "Only the platform team") || strings.Contains(p.body, v.subs[0]) {
		t.Fatalf("the catalog page for someone else: %d\n%.2000s", p.status, p.body)
	}

	b := browser()
	p = b.submit(b.get("/console/catalog"), url.Values{"login": {"pam@steward.test"}, "passwd": {"Pam-Password-1"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `<option value="`+v.subs[0]+`">`) || !strings.Contains(p.body, "needs a second factor") {
		t.Fatalf("the catalog page for the platform team: %d\n%.4000s", p.status, p.body)
	}
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	csrf := csrfField.FindStringSubmatch(p.body)
	authorize := func(principal, sub, costCenters string) consolePage {
		t.Helper()
		form := url.Values{"csrf": {html.UnescapeString(csrf[1])}, "principal": {principal}, "subscription": {sub},
			"costCenters": {costCenters}, "environments": {"dev, test"}, "regions": {"westeurope"}}
		req, _ := http.NewRequest(http.MethodPost, b.base+"/console/catalog/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return b.do(req)
	}
	ronRow := regexp.MustCompile(`<td>` + ron.ID + `</td><td>` + v.subs[0] + `</td><td>cc7</td><td>dev, test</td><td>westeurope</td>`)
	if p = authorize(ron.ID, v.subs[0], "cc7"); p.status != http.StatusSeeOther {
		t.Fatalf("a change without a second factor: %d\n%.2000s", p.status, p.body)
	}
	if p = b.get("/console/catalog"); ronRow.MatchString(p.body) {
		t.Fatal("a change without a second factor was saved")
	}

	p = b.stepUpWithTOTP("/console/catalog")
	csrf = csrfField.FindStringSubmatch(p.body)

	for _, bad := range [][3]string{{"nope", v.subs[0], "cc7"}, {ron.ID, v.subs[0], ""}, {ron.ID, v.subs[0], "cc<7>"}} {
		if p = authorize(bad[0], bad[1], bad[2]); p.status != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, p.status)
		}
	}
	if p = authorize(ron.ID, v.subs[0], "cc7"); p.status != http.StatusSeeOther {
		t.Fatalf("authorizing after the step-up: %d\n%.2000s", p.status, p.body)
	}
	if p = b.get("/console/catalog?done=authorized"); !ronRow.MatchString(p.body) || !strings.Contains(p.body, "The authorization is saved in the catalog.") {
		t.Fatalf("the catalog after the change:\n%.5000s", p.body)
	}
}
