package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"

	"github.com/steward-gov/steward/internal/identity"
	"github.com/steward-gov/steward/internal/vending"
)

// staticToken is a credential that presents one token, as a browser
// session that signed a user in would.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// userToken mints a vending API token for a user, signed in with amr at
// authTime (the identity service's minting helper; interactive sign-in
// with MFA is another issue's).
func (e *vendingEnv) userToken(t *testing.T, userID string, amr []string, authTime time.Time) azcore.TokenCredential {
	t.Helper()
	tok, _, err := e.s.Identity.IssueUserToken(context.Background(), e.s.Bootstrap.TenantID, userID, e.s.Bootstrap.ClientID,
		VendingAudience, identity.SignIn{AMR: amr, AuthTime: authTime})
	if err != nil {
		t.Fatal(err)
	}
	return staticToken(tok)
}

// requireApproval makes the production requests of team a's subscription
// wait for a member of group, and lets team a ask for production.
func (e *vendingEnv) requireApproval(t *testing.T, group string) {
	t.Helper()
	cat := e.admin2(t, http.MethodGet, vending.CatalogPath, nil, http.StatusOK)
	var sub vending.Subscription
	for _, raw := range cat["subscriptions"].([]any) {
		if m := raw.(map[string]any); m["subscriptionId"] == e.subs[0] {
			b, _ := json.Marshal(m)
			_ = json.Unmarshal(b, &sub)
		}
	}
	sub.Approval = &vending.Approval{Environments: []string{"prod"}, ApproverGroupID: group}
	e.admin2(t, http.MethodPut, vending.CatalogPath+"/subscriptions", sub, http.StatusOK)
	sub.Approval.ApproverGroupID = "approvers"
	if st, _, out := e.call(t, e.admin, http.MethodPut, vending.CatalogPath+"/subscriptions", sub, nil); st != http.StatusBadRequest {
		t.Fatalf("an approval without a group ID: %d %v", st, out)
	}
	for _, a := range cat["authorizations"].([]any) {
		m := a.(map[string]any)
		if m["subscriptionId"] == e.subs[0] {
			m["environments"] = []string{"dev", "prod"}
			e.admin2(t, http.MethodPut, vending.CatalogPath+"/authorizations", m, http.StatusOK)
		}
	}
}

// askProd is team a's request for a production group name, which waits
// for approvers; it returns the request's ID.
func (e *vendingEnv) askProd(t *testing.T, name, approvers string) string {
	t.Helper()
	req := vending.Request{SubscriptionID: e.subs[0], Name: name, Environment: "prod", CostCenter: "cc1", Region: "westeurope",
		Tags: map[string]string{"Owner": "team-a"}}
	st, _, out := e.call(t, e.teams[0], http.MethodPost, "/vending/v1/resourceGroups", req, nil)
	if st != http.StatusAccepted || out["status"] != vending.StatusPending || out["approverGroupId"] != approvers {
		t.Fatalf("prod request: %d %v", st, out)
	}
	return out["id"].(string)
}

func TestVendingApprovalByAGroupWithStepUp(t *testing.T) {
	e := newVendingEnv(t)
	ctx := context.Background()
	home := e.s.Bootstrap.TenantID
	ann, err := e.s.Identity.CreateUser(ctx, home, "ann@steward.test", "Ann", "a long enough password 1")
	if err != nil {
		t.Fatal(err)
	}
	eve, err := e.s.Identity.CreateUser(ctx, home, "eve@steward.test", "Eve", "a long enough password 2")
	if err != nil {
		t.Fatal(err)
	}
	approvers, err := e.s.Identity.CreateGroup(ctx, home, "prod approvers", ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Production requests in team a's subscription wait for the approvers.
	e.requireApproval(t, approvers.ID)
	ask := func(name string) string { return e.askProd(t, name, approvers.ID) }
	web := ask("web")
	e.plane.Public.Wait()
	rgs, _ := armresources.NewResourceGroupsClient(e.subs[0], e.admin, e.opts)
	if ok, err := rgs.CheckExistence(ctx, "rg-prod-cc1-web-westeurope", nil); err != nil || ok.Success {
		t.Fatalf("a pending request created its group: %v %v", ok.Success, err)
	}

	fresh := e.userToken(t, ann.ID, []string{"pwd", "mfa"}, time.Now().Add(-time.Minute))
	// The approver sees the pending request; others do not.
	if mine, _ := e.list(t, fresh, "/vending/v1/requests"); len(mine) != 1 || mine[0].(map[string]any)["id"] != web {
		t.Fatalf("ann's requests: %v", mine)
	}
	eveTok := e.userToken(t, eve.ID, []string{"pwd", "mfa"}, time.Now())
	for _, who := range []azcore.TokenCredential{eveTok, e.teams[1]} {
		if theirs, _ := e.list(t, who, "/vending/v1/requests"); len(theirs) != 0 {
			t.Fatalf("a non-approver sees %v", theirs)
		}
		if st, _, out := e.call(t, who, http.MethodPost, "/vending/v1/requests/"+web+"/approve", nil, nil); st != http.StatusNotFound {
			t.Fatalf("a non-approver approves: %d %v", st, out)
		}
	}
	// The requester is not an approver of its own request.
	if st, _, out := e.call(t, e.teams[0], http.MethodPost, "/vending/v1/requests/"+web+"/approve", nil, nil); st != http.StatusForbidden {
		t.Fatalf("the requester approves: %d %v", st, out)
	}

	// Without a recent MFA sign-in: 401 and a claims challenge.
	for name, cred := range map[string]azcore.TokenCredential{
		"password only": e.userToken(t, ann.ID, []string{"pwd"}, time.Now()),
		"stale MFA":     e.userToken(t, ann.ID, []string{"pwd", "mfa"}, time.Now().Add(-11*time.Minute)),
		"no auth_time":  e.userToken(t, ann.ID, []string{"mfa"}, time.Time{}),
	} {
		st, h, out := e.call(t, cred, http.MethodPost, "/vending/v1/requests/"+web+"/approve", nil, nil)
		errObj, _ := out["error"].(map[string]any)
		if st != http.StatusUnauthorized || errObj["code"] != "InsufficientClaims" {
			t.Fatalf("%s: %d %v", name, st, out)
		}
		chal := h.Get("WWW-Authenticate")
		m := regexp.MustCompile(`error="insufficient_claims", claims="([^"]+)"`).FindStringSubmatch(chal)
		if m == nil || !strings.HasPrefix(chal, "Bearer ") || !strings.Contains(chal, `authorization_uri="`) {
			t.Fatalf("%s: challenge %q", name, chal)
		}
		raw, err := base64.StdEncoding.DecodeString(m[1])
		var claims struct {
			AccessToken struct {
				ACRS struct {
					Essential bool   `json:"essential"`
					Value     string `json:"value"`
				} `json:"acrs"`
			} `json:"access_token"`
		}
		if err != nil || json.Unmarshal(raw, &claims) != nil || !claims.AccessToken.ACRS.Essential || claims.AccessToken.ACRS.Value != "c1" {
			t.Fatalf("%s: claims %s %v", name, raw, err)
		}
	}

	// A fresh MFA sign-in approves; the group is created.
	st, _, out := e.call(t, fresh, http.MethodPost, "/vending/v1/requests/"+web+"/approve", map[string]string{"reason": "change 42"}, nil)
	if dec, _ := out["decision"].(map[string]any); st != http.StatusOK || out["status"] != vending.StatusRunning || dec["by"] != ann.ID || dec["reason"] != "change 42" {
		t.Fatalf("approve: %d %v", st, out)
	}
	e.plane.Public.Wait()
	if _, _, rec := e.call(t, e.teams[0], http.MethodGet, "/vending/v1/requests/"+web, nil, nil); rec["status"] != vending.StatusSucceeded {
		t.Fatalf("approved request: %v", rec)
	}
	if _, err := rgs.Get(ctx, "rg-prod-cc1-web-westeurope", nil); err != nil {
		t.Fatal(err)
	}
	if st, _, out := e.call(t, fresh, http.MethodPost, "/vending/v1/requests/"+web+"/reject", nil, nil); st != http.StatusConflict {
		t.Fatalf("deciding twice: %d %v", st, out)
	}

	// A rejected request fails with the reason, and creates nothing.
	api := ask("api")
	st, _, out = e.call(t, fresh, http.MethodPost, "/vending/v1/requests/"+api+"/reject", map[string]string{"reason": "use dev"}, nil)
	if st != http.StatusOK || out["status"] != vending.StatusFailed {
		t.Fatalf("reject: %d %v", st, out)
	}
	_, _, rec := e.call(t, e.teams[0], http.MethodGet, "/vending/v1/requests/"+api, nil, nil)
	if errObj, _ := rec["error"].(map[string]any); errObj["code"] != "RequestRejected" || !strings.Contains(errObj["message"].(string), "use dev") {
		t.Fatalf("rejected request: %v", rec)
	}
	if ok, err := rgs.CheckExistence(ctx, "rg-prod-cc1-api-westeurope", nil); err != nil || ok.Success {
		t.Fatalf("a rejected request created its group: %v %v", ok.Success, err)
	}
	// Requests outside the approval's environments do not wait.
	req := vending.Request{SubscriptionID: e.subs[0], Name: "tools", Environment: "dev", CostCenter: "cc1", Region: "westeurope", Tags: map[string]string{"Owner": "a"}}
	if st, _, out := e.call(t, e.teams[0], http.MethodPost, "/vending/v1/resourceGroups", req, nil); st != http.StatusAccepted || out["status"] != vending.StatusRunning {
		t.Fatalf("dev request: %d %v", st, out)
	}
	e.plane.Public.Wait()
}
