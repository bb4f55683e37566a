package cloud_test

import (
	"net/http"
	"testing"
)

// The requests in this file are the ones the Azure CLI 2.45 sends (see
// docs/decisions/interop.md), checked here without the CLI.

func TestSubscriptionRoutesAcceptTheSubscriptionsSpecVersions(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken(t)
	for _, v := range []string{"2016-06-01", "2018-06-01", "2019-06-01", "2019-11-01", "2020-01-01",
		"2021-01-01", "2022-12-01", "2015-11-01", "2021-04-01"} {
		for _, p := range []string{"/subscriptions", "/subscriptions/" + e.sub} {
			if r, b := e.do(t, "GET", p+"?api-version="+v, admin, nil); r.StatusCode != http.StatusOK {
				t.Errorf("GET %s?api-version=%s: %d %s", p, v, r.StatusCode, b)
			}
		}
	}
	// A resource group is not a subscription: it keeps the resources spec's list.
	if r, _ := e.do(t, "GET", "/subscriptions/"+e.sub+"/resourcegroups?api-version=2019-11-01", admin, nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("resource groups with the subscriptions-only 2019-11-01: %d, want 400", r.StatusCode)
	}
}
