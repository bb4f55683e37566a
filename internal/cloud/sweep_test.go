package cloud_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestMalformedRequestsGetARMErrors sweeps every route with malformed
// requests and checks that each answer is a 4xx ARM error envelope (or a
// success), never a 5xx.
func TestMalformedRequestsGetARMErrors(t *testing.T) {
	e := newEnv(t, unthrottled)
	admin := e.adminToken(t)
	_, stranger := e.newPrincipal(t, "stranger")
	sub := "/subscriptions/" + e.sub
	rg := sub + "/resourceGroups/sweep"
	res := rg + "/providers/Microsoft.Web/sites/sa"
	if r, b := e.do(t, "PUT", rg+"?api-version=2021-04-01", admin, []byte(`{"location":"westeurope"}`)); r.StatusCode != 201 {
		t.Fatalf("setup: %d %s", r.StatusCode, b)
	}
	if r, b := e.do(t, "PUT", res+"?api-version=2023-01-01", admin, []byte(`{"location":"westeurope","properties":{}}`)); r.StatusCode != 201 {
		t.Fatalf("setup: %d %s", r.StatusCode, b)
	}
	routes := []string{
		"/subscriptions", sub, sub + "/resourcegroups", rg, sub + "/resources", rg + "/resources",
		res, res + "/slots/staging", res + "/slots", rg + "/providers/Microsoft.Web/sites",
		res + "/providers/Microsoft.Authorization/roleAssignments/00000000-0000-0000-0000-000000000001",
		rg + "/providers/Microsoft.Resources/tags/default", sub + "/providers/Microsoft.Resources/tags/default",
		"/providers/Microsoft.Management/managementGroups", "/providers/Microsoft.Management/managementGroups/mg1",
		"/providers/Microsoft.Management/managementGroups/mg1/subscriptions/" + e.sub,
		sub + "/operationresults/abc", sub + "/providers/Microsoft.Compute", res + "/listKeys",
		sub + "/providers/Microsoft.Insights/eventtypes/management/values", "/providers/Microsoft.Insights/eventtypes/management/values",
	}
	badPaths := []string{
		"/subscriptions/", "/subscriptions//resourceGroups/x", sub + "/resourceGroups", sub + "/resourceGroups/a/b",
		rg + "/providers", rg + "/providers/", rg + "/providers/Microsoft.Foo/bar/baz/providers",
		sub + "/whatever/x/y", "/providers/Microsoft.Management/managementGroups/mg1/subscriptions/a/b",
		"/subscriptions/" + strings.Repeat("a", 5000), rg + "/providers/X/" + strings.Repeat("t/n/", 40),
		sub + "/resourceGroups/%2F..%2F", sub + "/resourceGroups/a%00b", "/providers", "/providers/Microsoft.Management",
		sub + "/resourceGroups/" + strings.Repeat("r", 91), rg + "/providers/Microsoft.Web/sites/" + strings.Repeat("n", 300),
	}
	methods := []string{"GET", "HEAD", "PUT", "PATCH", "DELETE", "POST", "OPTIONS", "TRACE"}
	bodies := map[string][]byte{
		"invalid JSON": []byte(`{"location":`), "not an object": []byte(`[1,2]`), "wrong types": []byte(`{"location":5,"tags":"x","properties":[]}`),
		"bad tags": []byte(`{"location":"x","tags":{"a/b":"c"}}`), "trailing data": []byte(`{} {}`), "empty": {},
		"oversize": bytes.Repeat([]byte(" "), 5<<20),
	}
	statuses := map[int]int{}
	check := func(name string, r *http.Response, b []byte) {
		t.Helper()
		statuses[r.StatusCode]++
		if r.StatusCode >= 500 {
			t.Errorf("%s: %d %s", name, r.StatusCode, truncated(b))
			return
		}
		if r.StatusCode >= 400 && len(b) > 0 {
			var env struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
				t.Errorf("%s: %d is not an ARM envelope: %s", name, r.StatusCode, truncated(b))
			}
		}
	}
	for _, h := range [][]string{{"If-Match", `"nope"`}, {"If-None-Match", "*"}, {"x-ms-correlation-request-id", strings.Repeat("z", 500)}} {
		r, b := e.do(t, "PUT", res+"?api-version=2023-01-01", admin, []byte(`{"location":"westeurope"}`), h...)
		check("PUT with "+h[0], r, b)
		if h[0] != "x-ms-correlation-request-id" && r.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("PUT with %s: %d, want 412", h[0], r.StatusCode)
		}
	}
	n := 0
	for _, p := range append(routes, badPaths...) {
		for _, m := range methods {
			for _, q := range []string{"", "?api-version=", "?api-version=2021-04-01", "?api-version=abc", "?api-version=2099-01-01",
				"?api-version=2021-04-01&$top=-1", "?api-version=2021-04-01&$skiptoken=%%%", "?api-version=2021-04-01&$filter=tagName%20eq",
				"?api-version=2021-04-01&$skiptoken=Zm9v", "?api-version=2015-04-01&$filter=eventTimestamp%20ge%20'x'"} {
				for _, tok := range []string{admin, stranger, "", "not.a.token"} {
					r, b := e.do(t, m, p+q, tok, []byte(`{"location":"westeurope"}`))
					check(m+" "+p+q, r, b)
					n++
				}
			}
			if m == "PUT" || m == "PATCH" || m == "POST" {
				for name, body := range bodies {
					r, b := e.do(t, m, p+"?api-version=2021-04-01", admin, body)
					check(m+" "+p+" "+name, r, b)
					n++
				}
			}
		}
	}
	t.Logf("%d malformed requests, none answered 5xx; statuses %v", n, statuses)
}

func truncated(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
