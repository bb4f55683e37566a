package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/steward-gov/steward/internal/store"
	"github.com/steward-gov/steward/internal/store/storetest"
)

// backends runs a test on SQLite and, when reachable, PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteStore(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.Postgres(t)) })
}

func errCode(body string) string {
	var e struct {
		Err struct {
			Code string `json:"code"`
		} `json:"odata.error"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Err.Code
}

func TestEntityLimitsAndKeysAreEnforced(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	if r, b := f.do(t, "POST", "/Tables", `{"TableName":"limits"}`, nil); r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, b)
	}
	many := map[string]any{"PartitionKey": "p", "RowKey": "many"}
	for i := 0; i < 253; i++ {
		many[fmt.Sprintf("P%d", i)] = i
	}
	tooMany, _ := json.Marshal(many)
	var large strings.Builder
	large.WriteString(`{"PartitionKey":"p","RowKey":"large"`)
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&large, `,"S%d":"%s"`, i, strings.Repeat("x", 30000))
	}
	large.WriteString("}")
	cases := []struct {
		name, body, code string
	}{
		{"slash in key", `{"PartitionKey":"a/b","RowKey":"r"}`, "OutOfRangeInput"},
		{"control character in key", `{"PartitionKey":"a\u0001","RowKey":"r"}`, "OutOfRangeInput"},
		{"missing RowKey", `{"PartitionKey":"a"}`, "PropertiesNeedValue"},
		{"too many properties", string(tooMany), "TooManyProperties"},
		{"entity over 1 MiB", large.String(), "EntityTooLarge"},
		{"value over 64 KiB", `{"PartitionKey":"p","RowKey":"v","S":"` + strings.Repeat("x", 40000) + `"}`, "PropertyValueTooLarge"},
		{"bad property name", `{"PartitionKey":"p","RowKey":"n","1abc":1}`, "PropertyNameInvalid"},
		{"Int64 that is not one", `{"PartitionKey":"p","RowKey":"i","N":"x","N@odata.type":"Edm.Int64"}`, "InvalidInput"},
		{"unknown type", `{"PartitionKey":"p","RowKey":"u","N":"x","N@odata.type":"Edm.Decimal"}`, "InvalidInput"},
		{"not JSON", `nope`, "InvalidInput"},
	}
	for _, c := range cases {
		r, b := f.do(t, "POST", "/limits", c.body, nil)
		if r.StatusCode != 400 || errCode(b) != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.name, r.StatusCode, clip(b), c.code)
		}
	}
	for _, name := range []string{"ab", "1abc", "tables", "a-b", strings.Repeat("a", 64)} {
		r, b := f.do(t, "POST", "/Tables", `{"TableName":"`+name+`"}`, nil)
		if r.StatusCode != 400 || errCode(b) != "InvalidResourceName" {
			t.Errorf("table %q: %d %s", name, r.StatusCode, b)
		}
	}
}

func TestMetadataLevelsAndPreferHeader(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	f.do(t, "POST", "/Tables", `{"TableName":"meta"}`, map[string]string{"Prefer": "return-no-content"})
	body := `{"PartitionKey":"p","RowKey":"r","Big":"5","Big@odata.type":"Edm.Int64","N":1,"D":2.5,"T":"2026-01-01T00:00:00Z","T@odata.type":"Edm.DateTime"}`
	r, b := f.do(t, "POST", "/meta", body, map[string]string{"Prefer": "return-no-content"})
	if r.StatusCode != 204 || r.Header.Get("Preference-Applied") != "return-no-content" || r.Header.Get("ETag") == "" {
		t.Fatalf("insert with return-no-content: %d %v %s", r.StatusCode, r.Header, b)
	}
	cases := []struct {
		accept  string
		has     []string
		hasNot  []string
		ctypeIn string
	}{
		{"application/json;odata=nometadata", []string{`"Big":"5"`}, []string{"odata.etag", "@odata.type", "odata.metadata"}, "nometadata"},
		{"application/json;odata=minimalmetadata", []string{`"Big@odata.type":"Edm.Int64"`, "odata.etag", "odata.metadata"}, []string{`"N@odata.type"`, "odata.id"}, "minimalmetadata"},
		{"application/json;odata=fullmetadata", []string{`"N@odata.type":"Edm.Int32"`, `"odata.type":"acct.meta"`, "odata.id", "odata.editLink"}, nil, "fullmetadata"},
	}
	for _, c := range cases {
		r, b := f.do(t, "GET", "/meta(PartitionKey='p',RowKey='r')", "", map[string]string{"Accept": c.accept})
		if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), c.ctypeIn) {
			t.Fatalf("%s: %d %s", c.accept, r.StatusCode, b)
		}
		for _, s := range c.has {
			if !strings.Contains(b, s) {
				t.Errorf("%s: body lacks %s: %s", c.accept, s, b)
			}
		}
		for _, s := range c.hasNot {
			if strings.Contains(b, s) {
				t.Errorf("%s: body has %s: %s", c.accept, s, b)
			}
		}
	}
	r, b = f.do(t, "GET", "/meta()?$select=N,Nope", "", map[string]string{"Accept": "application/json;odata=nometadata"})
	if r.StatusCode != 200 || !strings.Contains(b, `"N":1`) || !strings.Contains(b, `"Nope":null`) || strings.Contains(b, "Big") {
		t.Fatalf("$select: %s", b)
	}
}

func TestQueriesPageThroughManyEntities(t *testing.T) {
	backends(t, func(t *testing.T, st store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		if err := f.svc.data.createTable(ctx, "acct", "many"); err != nil {
			t.Fatal(err)
		}
		var ops []entityOp
		// A low scan limit makes a selective query answer pages with fewer
		// entities than $top, and a continuation, as the service does.
		f.svc.data.scanLimit = 300
		for i := 0; i < 1200; i++ {
			ops = append(ops, entityOp{Kind: opInsert, Entity: Entity{PartitionKey: fmt.Sprintf("p%d", i%3), RowKey: fmt.Sprintf("r%05d", i),
				Props: []Property{{Name: "N", Value: Value{Type: EdmInt32, I: int64(i)}}}}})
		}
		if _, err := f.svc.data.apply(ctx, "acct", "many", ops); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			filter string
			top    int
			want   int
		}{
			{"", 0, 1200},
			{"PartitionKey eq 'p1'", 0, 400},
			{"N ge 900 and PartitionKey ge 'p1'", 100, 200},
			{"RowKey lt 'r00010'", 3, 10},
		}
		for _, c := range cases {
			var q entityQuery
			q.Filter, _ = parseFilter(c.filter)
			if c.filter == "" {
				q.Filter = nil
			}
			q.Top = c.top
			n, pages, last := 0, 0, ""
			for {
				res, err := f.svc.data.queryEntities(ctx, "acct", "many", q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, e := range res.Entities {
					k := e.PartitionKey + "|" + e.RowKey
					if k <= last {
						t.Fatalf("%q: %s after %s", c.filter, k, last)
					}
					last = k
				}
				n += len(res.Entities)
				if !res.More {
					break
				}
				q.AfterPK, q.AfterRK, q.HasAfter = res.NextPK, res.NextRK, true
			}
			if n != c.want {
				t.Errorf("%q top %d: %d entities in %d pages, want %d", c.filter, c.top, n, pages, c.want)
			}
		}
	})
}

func TestBatchIsAtomicAndBounded(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	f.do(t, "POST", "/Tables", `{"TableName":"batch"}`, nil)
	part := func(method, path, body string) string {
		return "--changeset_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
			method + " " + f.srv.URL + "/tables/acct/" + path + " HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json;odata=minimalmetadata\r\n\r\n" + body + "\r\n"
	}
	batch := func(parts ...string) (*http.Response, string) {
		body := "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n" + strings.Join(parts, "") + "--changeset_1--\r\n--batch_1--\r\n"
		return f.do(t, "POST", "/$batch", body, map[string]string{"Content-Type": "multipart/mixed; boundary=batch_1"})
	}
	ins := func(pk, rk string) string {
		return part("POST", "batch", `{"PartitionKey":"`+pk+`","RowKey":"`+rk+`"}`)
	}
	r, b := batch(ins("p", "a"), ins("p", "b"))
	if r.StatusCode != 202 || strings.Count(b, "HTTP/1.1 201 Created") != 2 {
		t.Fatalf("batch: %d %s", r.StatusCode, b)
	}
	r, b = batch(ins("p", "c"), ins("p", "a"))
	if r.StatusCode != 202 || !strings.Contains(b, "409 Conflict") || !strings.Contains(b, `"value":"1:The specified entity already exists.`) {
		t.Fatalf("failing batch: %d %s", r.StatusCode, b)
	}
	if r, _ := f.do(t, "GET", "/batch(PartitionKey='p',RowKey='c')", "", nil); r.StatusCode != 404 {
		t.Fatalf("the failed batch's first insert is visible: %d", r.StatusCode)
	}
	var many []string
	for i := 0; i < 101; i++ {
		many = append(many, ins("p", fmt.Sprintf("m%d", i)))
	}
	refusals := []struct {
		name  string
		parts []string
		code  string
	}{
		{"101 operations", many, "InvalidInput"},
		{"two partitions", []string{ins("p", "x"), ins("q", "y")}, "CommandsInBatchActOnDifferentPartitions"},
		{"one row twice", []string{ins("p", "x"), ins("p", "x")}, "InvalidDuplicateRow"},
	}
	for _, c := range refusals {
		r, b := batch(c.parts...)
		if r.StatusCode != 400 || errCode(b) != c.code {
			t.Errorf("%s: %d %s", c.name, r.StatusCode, clip(b))
		}
	}
}

func TestStoredAccessPolicyGrantsAndRevokes(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	f.do(t, "POST", "/Tables", `{"TableName":"acl"}`, nil)
	f.do(t, "POST", "/acl", `{"PartitionKey":"p","RowKey":"r"}`, nil)
	acl := `<?xml version="1.0" encoding="utf-8"?><SignedIdentifiers><SignedIdentifier><Id>readers</Id><AccessPolicy><Start>2026-01-01T00:00:00Z</Start><Expiry>2027-01-01T00:00:00Z</Expiry><Permission>r</Permission></AccessPolicy></SignedIdentifier></SignedIdentifiers>`
	if r, b := f.do(t, "PUT", "/acl?comp=acl", acl, nil); r.StatusCode != 204 {
		t.Fatalf("set ACL: %d %s", r.StatusCode, b)
	}
	if r, b := f.do(t, "GET", "/acl?comp=acl", "", nil); r.StatusCode != 200 || !strings.Contains(b, "<Id>readers</Id>") || !strings.Contains(b, "<Permission>r</Permission>") {
		t.Fatalf("get ACL: %d %s", r.StatusCode, b)
	}
	tok, err := ServiceSAS{Table: "acl", Identifier: "readers"}.Sign("acct", f.acct.Keys[1].Value)
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, string) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/tables/acct/acl()?"+tok, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("x-ms-error-code")
	}
	if s, c := get(); s != 200 {
		t.Fatalf("SAS through the policy: %d %s", s, c)
	}
	f.do(t, "PUT", "/acl?comp=acl", `<SignedIdentifiers/>`, nil)
	if s, c := get(); s != 403 || c != "AuthenticationFailed" {
		t.Fatalf("SAS after its policy was removed: %d %s", s, c)
	}
}

func TestSharedKeyRefusals(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	stale := f.now.Add(-20 * 60e9).Format(http.TimeFormat)
	cases := []struct {
		name string
		hdr  map[string]string
		code string
	}{
		{"wrong signature", map[string]string{"Authorization": "SharedKeyLite acct:AAAA"}, "AuthenticationFailed"},
		{"another account", map[string]string{"Authorization": "SharedKeyLite other:AAAA"}, "AuthenticationFailed"},
		{"stale date", map[string]string{"x-ms-date": stale}, "AuthenticationFailed"},
		{"unknown scheme", map[string]string{"Authorization": "Basic abc"}, "AuthenticationFailed"},
		{"bad token", map[string]string{"Authorization": "Bearer abc"}, "AuthenticationFailed"},
	}
	for _, c := range cases {
		r, b := f.do(t, "GET", "/Tables", "", c.hdr)
		if r.StatusCode != 403 || errCode(b) != c.code {
			t.Errorf("%s: %d %s", c.name, r.StatusCode, b)
		}
	}
	if r, b := f.do(t, "GET", "/Tables", "", nil); r.StatusCode != 200 {
		t.Fatalf("signed: %d %s", r.StatusCode, b)
	}
}

// TestHostFormServesTheAccountOfTheHost sends requests as the forward
// proxy hands them over: Host {account}.table.core.windows.net, paths
// without the account, signed over /{account}/Tables as on Azure.
func TestHostFormServesTheAccountOfTheHost(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	h := f.svc.Handler(HandlerOptions{ResolveHost: func(host string) (string, bool) {
		a, ok := strings.CutSuffix(host, ".table.core.windows.net")
		return a, ok
	}})
	cases := []struct {
		host, path string
		want       int
	}{
		{"acct.table.core.windows.net", "/Tables", 200},
		{"acct.table.core.windows.net:443", "/Tables", 200},
		{"nosuch.table.core.windows.net", "/Tables", 404},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "https://"+c.host+c.path, nil)
		req.Host = c.host
		req.Header.Set("x-ms-date", f.now.Format(http.TimeFormat))
		req.Header.Set("Authorization", "SharedKeyLite acct:"+hmacSign(t, f.acct.Keys[0].Value, f.now.Format(http.TimeFormat)+"\n/acct"+c.path))
		if !h.Matches(req) {
			t.Fatalf("%s: not matched", c.host)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%s%s: %d %s", c.host, c.path, w.Code, w.Body.String())
		}
	}
	if h.Matches(httptest.NewRequest("GET", "https://management.azure.com/subscriptions", nil)) {
		t.Error("an ARM request matched the Table service")
	}
}

func TestAccountSASAndSignatureConstraints(t *testing.T) {
	f := newFixture(t, sqliteStore(t))
	f.do(t, "POST", "/Tables", `{"TableName":"things"}`, nil)
	f.do(t, "POST", "/things", `{"PartitionKey":"p","RowKey":"r"}`, nil)
	key := f.acct.Keys[0].Value
	exp := f.now.Add(time.Hour).Format(time.RFC3339)
	acct := func(s AccountSAS) string {
		s.Expiry = exp
		tok, err := s.Sign("acct", key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	svc := func(s ServiceSAS) string {
		if s.Expiry == "" {
			s.Expiry = exp
		}
		tok, err := s.Sign("acct", key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"account SAS lists tables", "GET", "/Tables", acct(AccountSAS{Services: "t", ResourceTypes: "c", Permission: "l"}), "", 200, ""},
		{"account SAS reads entities", "GET", "/things()", acct(AccountSAS{Services: "t", ResourceTypes: "o", Permission: "r"}), "", 200, ""},
		{"account SAS of version 2020-12-06 (ses signed)", "GET", "/things()", acct(AccountSAS{Version: "2020-12-06", Services: "t", ResourceTypes: "o", Permission: "r"}), "", 200, ""},
		{"account SAS for containers only", "GET", "/things()", acct(AccountSAS{Services: "t", ResourceTypes: "c", Permission: "rl"}), "", 403, "AuthorizationResourceTypeMismatch"},
		{"account SAS for blobs only", "GET", "/things()", acct(AccountSAS{Services: "b", ResourceTypes: "o", Permission: "r"}), "", 403, "AuthorizationServiceMismatch"},
		{"account SAS creates a table with c", "POST", "/Tables", acct(AccountSAS{Services: "t", ResourceTypes: "c", Permission: "c"}), `{"TableName":"made"}`, 201, ""},
		{"account SAS without create", "POST", "/Tables", acct(AccountSAS{Services: "t", ResourceTypes: "c", Permission: "l"}), `{"TableName":"made2"}`, 403, "AuthorizationPermissionMismatch"},
		{"service SAS on a table operation", "GET", "/Tables", svc(ServiceSAS{Table: "things", Permission: "r"}), "", 403, "AuthorizationFailure"},
		{"https-only SAS over http", "GET", "/things()", svc(ServiceSAS{Table: "things", Permission: "r", Protocol: "https"}), "", 403, "AuthorizationProtocolMismatch"},
		{"SAS for another address", "GET", "/things()", svc(ServiceSAS{Table: "things", Permission: "r", IP: "10.0.0.1-10.0.0.9"}), "", 403, "AuthorizationSourceIPMismatch"},
		{"SAS for this address", "GET", "/things()", svc(ServiceSAS{Table: "things", Permission: "r", IP: "127.0.0.1"}), "", 200, ""},
		{"SAS not yet valid", "GET", "/things()", svc(ServiceSAS{Table: "things", Permission: "r", Start: f.now.Add(time.Hour).Format(time.RFC3339), Expiry: f.now.Add(2 * time.Hour).Format(time.RFC3339)}), "", 403, "AuthenticationFailed"},
		{"SAS upsert needs a and u", "PUT", "/things(PartitionKey='p',RowKey='x')", svc(ServiceSAS{Table: "things", Permission: "u"}), `{}`, 403, "AuthorizationPermissionMismatch"},
		{"SAS upsert with a and u", "PUT", "/things(PartitionKey='p',RowKey='x')", svc(ServiceSAS{Table: "things", Permission: "au"}), `{}`, 204, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, f.srv.URL+"/tables/acct"+c.path+"?"+c.token, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("x-ms-error-code") != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, resp.Header.Get("x-ms-error-code"), c.status, c.code)
		}
	}
}
