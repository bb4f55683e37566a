package cloud_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
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

func TestProviderListPagesTheRegisteredNamespacesAsShown(t *testing.T) {
	e := newEnv(t)
	admin := e.adminToken(t)
	sub := "/subscriptions/" + e.sub
	var all []map[string]any
	next := sub + "/providers?api-version=2021-04-01&$top=2"
	for pages := 0; next != ""; pages++ {
		if pages > 50 {
			t.Fatal("the provider list does not end")
		}
		r, b := e.do(t, "GET", strings.TrimPrefix(next, strings.TrimSuffix(e.s.BaseURL, "/")), admin, nil)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, r.StatusCode, b)
		}
		var page struct {
			Value    []map[string]any
			NextLink string
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Value) > 2 {
			t.Fatalf("page of %d providers with $top=2", len(page.Value))
		}
		all = append(all, page.Value...)
		next = page.NextLink
	}
	seen := map[string]bool{}
	for _, p := range all {
		ns, _ := p["namespace"].(string)
		if seen[strings.ToLower(ns)] {
			t.Errorf("%s listed twice", ns)
		}
		seen[strings.ToLower(ns)] = true
		_, b := e.do(t, "GET", sub+"/providers/"+ns+"?api-version=2021-04-01", admin, nil)
		var shown map[string]any
		if err := json.Unmarshal(b, &shown); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p, shown) {
			t.Errorf("listed %v, shown %v", p, shown)
		}
	}
	for _, ns := range []string{"microsoft.resources", "microsoft.management", "microsoft.insights"} {
		if !seen[ns] {
			t.Errorf("%s not listed among %d providers", ns, len(all))
		}
	}
}
