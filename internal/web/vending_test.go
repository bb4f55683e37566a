package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestVendingPageRequesterSeesCannotDecide(t *testing.T) {
	c, f := kqlConsole(t)
	ck := signedInWithRefresh(t, c, f, "reader-token")
	rec := do(t, c, ck, http.MethodGet, "/console/vending", nil)
	page := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(page, "<td>web</td>") || !strings.Contains(page, "PendingApproval") {
		t.Fatalf("vending page %d:\n%s", rec.Code, page)
	}
	// The user's own request is under "My requests", with no decision form.
	if strings.Contains(page, "Waiting for your approval") || strings.Contains(page, `aria-label="Approve web"`) {
		t.Errorf("the requester is offered to decide:\n%s", page)
	}
	// The API refuses a decision by the requester (the console shows it).
	rec = do(t, c, ck, http.MethodPost, "/console/vending/decide", url.Values{"csrf": {"csrf-reader-token"}, "request": {"r1"}, "decision": {"approve"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "NotApprover") {
		t.Errorf("the requester approving: %d\n%s", rec.Code, rec.Body.String())
	}
	if len(f.decided) != 0 {
		t.Errorf("decisions: %v", f.decided)
	}
}

func TestVendingApproveNeedsStepUp(t *testing.T) {
	c, f := kqlConsole(t)
	fresh := signedInWithRefresh(t, c, f, "owner-token")
	rec := do(t, c, fresh, http.MethodGet, "/console/vending", nil)
	if page := rec.Body.String(); !strings.Contains(page, "Waiting for your approval") || !strings.Contains(page, `aria-label="Approve web"`) ||
		!strings.Contains(page, `<label for="reason-r1">Reason</label>`) {
		t.Fatalf("approver's page:\n%s", page)
	}
	// An hour-old second factor: the console steps up before calling the API.
	stale := signedIn(t, c, "owner-token", time.Hour)
	form := url.Values{"csrf": {"csrf-owner-token"}, "request": {"r1"}, "decision": {"approve"}, "reason": {"change 42"}}
	rec = do(t, c, stale, http.MethodPost, "/console/vending/decide", form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/signin?stepup=1&return=%2Fconsole%2Fvending" {
		t.Fatalf("approve without fresh MFA: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if len(f.decided) != 0 {
		t.Fatalf("decided without step-up: %v", f.decided)
	}
	rec = do(t, c, fresh, http.MethodPost, "/console/vending/decide", form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/vending?done=approved" {
		t.Fatalf("approve: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	if strings.Join(f.decided, ",") != "approve:change 42" {
		t.Errorf("decisions: %v", f.decided)
	}
	for _, bad := range []url.Values{
		{"request": {"../x"}, "decision": {"approve"}},
		{"request": {"r1"}, "decision": {"delete"}},
	} {
		bad.Set("csrf", "csrf-owner-token")
		if rec := do(t, c, fresh, http.MethodPost, "/console/vending/decide", bad); rec.Code != http.StatusBadRequest {
			t.Errorf("%v: %d", bad, rec.Code)
		}
	}
}
