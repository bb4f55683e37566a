package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-gov/steward/internal/identity"
)

// TestNoRouteAnswers5xxToMalformedInput sweeps the routes of every
// service steward serve mounts (ARM with its providers, the vault data
// plane, the token service, Microsoft Graph, the logs APIs) with malformed path segments,
// continuation tokens and token-request fields, in process, and fails on
// any 5xx: input that cannot be understood is the caller's error.
func TestNoRouteAnswers5xxToMalformedInput(t *testing.T) {
	_, s := serveCloud(t, serveServices(policyproviderOptions{}, nil)...)
	ctx := context.Background()
	info := s.Bootstrap
	token := func(resource string) string {
		t.Helper()
		resp, err := s.Identity.Token(ctx, identity.TokenRequest{Tenant: info.TenantID, ClientID: info.ClientID,
			ClientSecret: info.ClientSecret, Scope: resource + "/.default", Authorities: []string{s.BaseURL}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.AccessToken
	}
	arm, kv, la, mon := token("https://management.azure.com"), token("https://vault.azure.net"),
		token("https://api.loganalytics.io"), token("https://monitor.azure.com")
	gr, sto := token("https://graph.microsoft.com"), token("https://storage.azure.com")
	// A storage account, so the Table service has one to address.
	put := httptest.NewRequest("PUT", strings.TrimSuffix(s.BaseURL, "/")+"/subscriptions/"+info.SubscriptionID+
		"/resourceGroups/sweep/providers/Microsoft.Storage/storageAccounts/sweepacct?api-version=2023-01-01",
		strings.NewReader(`{"location":"westeurope","kind":"StorageV2","sku":{"name":"Standard_LRS"}}`))
	put.Header.Set("Authorization", "Bearer "+arm)
	put.Header.Set("Content-Type", "application/json")
	rg := httptest.NewRequest("PUT", strings.TrimSuffix(s.BaseURL, "/")+"/subscriptions/"+info.SubscriptionID+
		"/resourceGroups/sweep?api-version=2021-04-01", strings.NewReader(`{"location":"westeurope"}`))
	rg.Header.Set("Authorization", "Bearer "+arm)
	rg.Header.Set("Content-Type", "application/json")
	for _, r := range []*http.Request{rg, put} {
		w := httptest.NewRecorder()
		s.Server.Handler().ServeHTTP(w, r)
		if w.Code >= 300 {
			t.Fatalf("setup %s: %d %s", r.URL.Path, w.Code, w.Body)
		}
	}
	h := s.Server.Handler()
	base := strings.TrimSuffix(s.BaseURL, "/")

	// Malformed values for a path segment or a query parameter, escaped.
	values := []string{"a%00b", strings.Repeat("n", 30000), strings.Repeat("t", 5000), "%2F..%2F", "%C3%A9%27%22", "%20", "-"}
	skiptokens := []string{"Zm9v", "!!!", "%00", strings.Repeat("A", 30000), "eyJhIjoxfQ", "%FF%FE"}
	sub := "/subscriptions/" + info.SubscriptionID
	type route struct {
		methods []string
		path    string // {x} is replaced by each value
		token   string
	}
	routes := []route{
		{[]string{"GET"}, sub + "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$skiptoken={x}", arm},
		{[]string{"GET"}, "/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$skiptoken={x}", arm},
		{[]string{"GET"}, sub + "/providers/Microsoft.Authorization/denyAssignments?api-version=2022-04-01&$skiptoken={x}", arm},
		{[]string{"GET"}, sub + "/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$skiptoken={x}", arm},
		{[]string{"GET"}, sub + "/resourcegroups?api-version=2021-04-01&$skiptoken={x}", arm},
		{[]string{"GET"}, sub + "/resources?api-version=2021-04-01&$skiptoken={x}", arm},
		{[]string{"GET", "PUT", "DELETE"}, sub + "/resourcegroups/{x}?api-version=2021-04-01", arm},
		{[]string{"GET", "PUT"}, sub + "/providers/Microsoft.Authorization/roleAssignments/{x}?api-version=2022-04-01", arm},
		{[]string{"PUT"}, sub + "/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/{x}?api-version=2022-10-01", arm},
		{[]string{"GET"}, "/vaults/steward/secrets?api-version=7.4&$skiptoken={x}", kv},
		{[]string{"GET"}, "/vaults/steward/keys?api-version=7.4&$skiptoken={x}", kv},
		{[]string{"GET"}, "/vaults/steward/certificates?api-version=7.4&$skiptoken={x}", kv},
		{[]string{"GET"}, "/vaults/steward/deletedsecrets?api-version=7.4&$skiptoken={x}", kv},
		{[]string{"GET"}, "/vaults/steward/deletedkeys?api-version=7.4&$skiptoken={x}", kv},
		{[]string{"GET"}, "/vaults/steward/deletedcertificates?api-version=7.4&$skiptoken={x}", kv},
		{[]string{"GET", "PUT", "DELETE", "PATCH"}, "/vaults/steward/secrets/{x}?api-version=7.4", kv},
		{[]string{"GET", "PATCH"}, "/vaults/steward/secrets/name/{x}?api-version=7.4", kv},
		{[]string{"GET"}, "/vaults/steward/secrets/{x}/versions?api-version=7.4", kv},
		{[]string{"GET", "PUT", "DELETE"}, "/vaults/steward/keys/{x}?api-version=7.4", kv},
		{[]string{"GET"}, "/vaults/steward/keys/name/{x}?api-version=7.4", kv},
		{[]string{"GET", "DELETE"}, "/vaults/steward/certificates/{x}?api-version=7.4", kv},
		{[]string{"GET", "DELETE"}, "/vaults/steward/deletedsecrets/{x}?api-version=7.4", kv},
		{[]string{"GET"}, "/vaults/{x}/secrets?api-version=7.4", kv},
		{[]string{"GET"}, "/{x}/v2.0/.well-known/openid-configuration", ""},
		{[]string{"GET"}, "/{x}/discovery/v2.0/keys", ""},
		{[]string{"POST"}, "/{x}/oauth2/v2.0/token", ""},
		{[]string{"GET", "POST"}, "/v1/workspaces/{x}/query?query=print%201", la},
		{[]string{"GET"}, "/v1" + sub + "/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/{x}/query?query=print%201", la},
		{[]string{"POST"}, "/ingest/dataCollectionRules/{x}/streams/Custom-X?api-version=2023-01-01", mon},
		{[]string{"POST"}, "/ingest/dataCollectionRules/dcr-00000000000000000000000000000000/streams/{x}?api-version=2023-01-01", mon},
		{[]string{"POST"}, "/ods/{x}/api/logs?api-version=2016-04-01", ""},
		{[]string{"GET", "PATCH", "DELETE"}, "/graph/v1.0/applications/{x}", gr},
		{[]string{"GET"}, "/graph/v1.0/applications(appId='{x}')", gr},
		{[]string{"GET", "PATCH", "DELETE"}, "/graph/v1.0/servicePrincipals/{x}", gr},
		{[]string{"GET"}, "/graph/v1.0/users/{x}", gr},
		{[]string{"GET"}, "/graph/v1.0/groups/{x}/members", gr},
		{[]string{"GET"}, "/graph/v1.0/applications?$skiptoken={x}", gr},
		{[]string{"GET"}, "/graph/v1.0/users?$filter={x}", gr},
		{[]string{"POST"}, "/graph/v1.0/applications/{x}/addPassword", gr},
		{[]string{"GET", "POST"}, "/tables/{x}/Tables", sto},
		{[]string{"GET", "DELETE"}, "/tables/sweepacct/Tables('{x}')", sto},
		{[]string{"GET", "POST"}, "/tables/sweepacct/{x}", sto},
		{[]string{"GET", "PUT", "DELETE"}, "/tables/sweepacct/t1(PartitionKey='{x}',RowKey='r')", sto},
		{[]string{"GET"}, "/tables/sweepacct/t1()?NextPartitionKey={x}&NextRowKey={x}", sto},
		{[]string{"GET"}, "/tables/sweepacct/Tables?NextTableName={x}", sto},
	}
	// The token endpoint's form fields.
	tokenForms := []url.Values{}
	for _, v := range append(values, "\x00", strings.Repeat("c", 60000)) {
		raw, _ := url.PathUnescape(v)
		for _, field := range []string{"client_id", "client_secret", "client_assertion", "scope", "client_assertion_type"} {
			f := url.Values{"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "scope": {"https://management.azure.com/.default"}}
			f.Set(field, raw)
			tokenForms = append(tokenForms, f)
		}
	}

	n, statuses := 0, map[int]int{}
	do := func(method, target, tok, contentType, body string) {
		t.Helper()
		r := httptest.NewRequest(method, base+target, strings.NewReader(body))
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if strings.HasPrefix(target, "/tables/") {
			r.Header.Set("x-ms-version", "2019-02-02")
			r.Header.Set("Accept", "application/json;odata=nometadata")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		n++
		statuses[w.Code]++
		if w.Code >= 500 {
			t.Errorf("%s %.200s: %d %.300s", method, target, w.Code, w.Body.String())
		}
	}
	for _, rt := range routes {
		vals := values
		if strings.Contains(rt.path, "$skiptoken={x}") {
			vals = skiptokens
		}
		for _, v := range vals {
			target := strings.ReplaceAll(rt.path, "{x}", v)
			for _, m := range rt.methods {
				body, ct := "", ""
				switch m {
				case "PUT", "PATCH", "POST":
					body, ct = `{"location":"westeurope","value":"v","properties":{}}`, "application/json"
				}
				if strings.HasSuffix(rt.path, "/token") {
					body, ct = url.Values{"grant_type": {"client_credentials"}, "client_id": {info.ClientID},
						"client_secret": {info.ClientSecret}, "scope": {"https://management.azure.com/.default"}}.Encode(), "application/x-www-form-urlencoded"
				}
				do(m, target, rt.token, ct, body)
			}
		}
	}
	for _, f := range tokenForms {
		do("POST", "/"+info.TenantID+"/oauth2/v2.0/token", "", "application/x-www-form-urlencoded", f.Encode())
	}
	t.Logf("%d malformed requests; statuses %s", n, fmt.Sprint(statuses))
	if statuses[http.StatusOK]+statuses[http.StatusCreated] == n {
		t.Fatal("every request succeeded; the sweep sends nothing malformed")
	}
}
