package vending

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/steward-gov/steward/internal/arm"
)

const (
	subA  = "00000000-0000-0000-0000-00000000000a"
	subB  = "00000000-0000-0000-0000-00000000000b"
	alice = "11111111-1111-1111-1111-111111111111"
	bob   = "22222222-2222-2222-2222-222222222222"
	devs  = "33333333-3333-3333-3333-333333333333"
	guid  = "44444444-4444-4444-4444-444444444444"
)

func testCatalog() *Catalog {
	exec := ExecutionContext{TenantID: guid, ClientID: guid, VaultURL: "https://v.vault.azure.net", CertificateName: "exec"}
	return &Catalog{
		Subscriptions: map[string]Subscription{
			subA: {ID: subA, Execution: exec, Tags: []TagRule{{Name: "Owner", Required: true}, {Name: "Tier", Allowed: []string{"gold", "silver"}}},
				Naming: "{env}-{costCenter}-{region}-{name}"},
			subB: {ID: subB, Execution: exec},
		},
		Authorizations: []Authorization{
			{PrincipalID: alice, SubscriptionID: subA, CostCenters: []string{"cc1"}, Environments: []string{"dev"}, Regions: []string{"westeurope"}},
			{PrincipalID: devs, SubscriptionID: subA, CostCenters: []string{"cc2"}, Environments: []string{"test"}, Regions: []string{"westeurope", "northeurope"}},
			{PrincipalID: devs, SubscriptionID: subB, CostCenters: []string{"cc2"}, Environments: []string{"dev"}, Regions: []string{"eastus"}},
			// An authorization on a subscription the catalog no longer
			// supports grants nothing.
			{PrincipalID: bob, SubscriptionID: "00000000-0000-0000-0000-0000000000ff", CostCenters: []string{"x"}, Environments: []string{"x"}, Regions: []string{"x"}},
		},
	}
}

func TestGrantsUnionTheCallerAndItsGroups(t *testing.T) {
	c := testCatalog()
	cases := []struct {
		name string
		who  Caller
		want map[string]string // subscription -> "costCenters|environments|regions"
	}{
		{"alice alone", Caller{ObjectID: alice}, map[string]string{subA: "cc1|dev|westeurope"}},
		{"alice in devs", Caller{ObjectID: alice, Groups: []string{devs}},
			map[string]string{subA: "cc1,cc2|dev,test|northeurope,westeurope", subB: "cc2|dev|eastus"}},
		{"bob", Caller{ObjectID: bob}, map[string]string{}},
		{"case of the object ID", Caller{ObjectID: strings.ToUpper(alice)}, map[string]string{subA: "cc1|dev|westeurope"}},
	}
	for _, tc := range cases {
		got := c.Grants(tc.who)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d grants, want %d", tc.name, len(got), len(tc.want))
		}
		for sub, want := range tc.want {
			g := got[sub]
			if g == nil {
				t.Errorf("%s: no grant on %s", tc.name, sub)
				continue
			}
			if s := strings.Join(g.CostCenters, ",") + "|" + strings.Join(g.Environments, ",") + "|" + strings.Join(g.Regions, ","); s != want {
				t.Errorf("%s: %s = %s, want %s", tc.name, sub, s, want)
			}
		}
	}
}

func TestValidateRequest(t *testing.T) {
	c := testCatalog()
	alice := Caller{ObjectID: alice}
	ok := Request{SubscriptionID: subA, Name: "web", Environment: "dev", CostCenter: "cc1", Region: "westeurope", Tags: map[string]string{"Owner": "a"}}
	cases := []struct {
		name   string
		edit   func(r *Request)
		status int
		code   string
		says   string
	}{
		{"valid", func(r *Request) {}, 0, "", ""},
		{"optional tag", func(r *Request) { r.Tags["tier"] = "gold" }, 0, "", ""},
		{"upper-case subscription", func(r *Request) { r.SubscriptionID = strings.ToUpper(subA) }, 0, "", ""},
		{"no name", func(r *Request) { r.Name = "" }, 400, "MissingProperty", "'name'"},
		{"no region", func(r *Request) { r.Region = "" }, 400, "MissingProperty", "'region'"},
		{"name with space", func(r *Request) { r.Name = "my app" }, 400, "InvalidName", "my app"},
		{"name ending in a dot", func(r *Request) { r.Name = "web." }, 400, "InvalidName", "web."},
		{"subscription not granted", func(r *Request) { r.SubscriptionID = subB }, 403, "SubscriptionNotAuthorized", subB},
		{"environment", func(r *Request) { r.Environment = "prod" }, 403, "NotAuthorized", "environment 'prod'"},
		{"cost center", func(r *Request) { r.CostCenter = "cc2" }, 403, "NotAuthorized", "allowed: cc1"},
		{"region", func(r *Request) { r.Region = "eastus" }, 403, "NotAuthorized", "region 'eastus'"},
		{"unknown tag", func(r *Request) { r.Tags["Color"] = "red" }, 400, "InvalidTag", "Owner, Tier"},
		{"tag value", func(r *Request) { r.Tags["Tier"] = "bronze" }, 400, "InvalidTagValue", "gold, silver"},
		{"missing required tag", func(r *Request) { r.Tags = nil }, 400, "MissingTag", "Owner"},
		{"reserved tag", func(r *Request) { r.Tags["CostCenter"] = "cc9" }, 400, "InvalidTag", "costCenter"},
		{"request tag", func(r *Request) { r.Tags["vendingrequest"] = "someone-else" }, 400, "InvalidTag", "request's ID"},
	}
	for _, tc := range cases {
		r := ok
		r.Tags = map[string]string{"Owner": "a"}
		tc.edit(&r)
		p, err := c.Validate(alice, r)
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if p.Group != "dev-cc1-westeurope-web" || p.Tags["Environment"] != "dev" || p.Tags["CostCenter"] != "cc1" || p.Tags["Owner"] != "a" {
				t.Errorf("%s: plan %+v", tc.name, p)
			}
			continue
		}
		var e *arm.Error
		if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.says) {
			t.Errorf("%s: %v, want %d %s naming %q", tc.name, err, tc.status, tc.code, tc.says)
		}
	}
}

func TestCatalogEntriesAreValidated(t *testing.T) {
	good := func() Subscription {
		return Subscription{ID: subA, Execution: ExecutionContext{TenantID: guid, ClientID: guid, VaultURL: "https://v", CertificateName: "exec"}}
	}
	cases := []struct {
		name string
		edit func(s *Subscription)
		code string
	}{
		{"valid", func(s *Subscription) {}, ""},
		{"bad id", func(s *Subscription) { s.ID = "abc" }, "InvalidSubscriptionId"},
		{"no execution context", func(s *Subscription) { s.Execution = ExecutionContext{} }, "InvalidExecutionContext"},
		{"naming without name", func(s *Subscription) { s.Naming = "rg-{env}" }, "InvalidNamingRule"},
		{"role without definition", func(s *Subscription) {
			s.Roles = []RoleAssignment{{PrincipalID: guid, RoleDefinitionID: "Contributor"}}
		}, "InvalidRoleAssignment"},
		{"policy without definition", func(s *Subscription) { s.Policies = []PolicyAssignment{{Name: "p", DefinitionID: "x"}} }, "InvalidPolicyAssignment"},
	}
	for _, tc := range cases {
		s := good()
		tc.edit(&s)
		err := s.Validate()
		if tc.code == "" && err != nil || tc.code != "" && (err == nil || arm.AsError(err).Code != tc.code || arm.AsError(err).Status != http.StatusBadRequest) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	a := Authorization{PrincipalID: alice, SubscriptionID: subA, CostCenters: []string{"c"}, Environments: []string{"e"}}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("authorization without regions: %v", err)
	}
}

func TestDeterministicGUIDIsAStableVersion5Shape(t *testing.T) {
	a := deterministicGUID("/subscriptions/x/resourceGroups/rg", alice, "role")
	if a != deterministicGUID("/SUBSCRIPTIONS/x/resourceGroups/RG", alice, "role") || !isGUID(a) || a[14] != '5' {
		t.Fatalf("guid %s", a)
	}
	if a == deterministicGUID("/subscriptions/x/resourceGroups/rg", bob, "role") {
		t.Fatal("different principals share a name")
	}
}

// TestOpenAPIDocumentCoversThePublicAPI checks the served document parses
// and names every public route the handler serves.
func TestOpenAPIDocumentCoversThePublicAPI(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil || doc.OpenAPI == "" {
		t.Fatalf("openapi.json: %v", err)
	}
	for path, method := range map[string]string{
		PublicPrefix + "subscriptions": "get", PublicPrefix + "subscriptions/{subscriptionId}/environments": "get",
		PublicPrefix + "subscriptions/{subscriptionId}/costCenters": "get", PublicPrefix + "subscriptions/{subscriptionId}/regions": "get",
		PublicPrefix + "resourceGroups": "post", PublicPrefix + "requests": "get", PublicPrefix + "requests/{requestId}": "get",
		PublicPrefix + "requests/{requestId}/approve": "post", PublicPrefix + "requests/{requestId}/reject": "post",
	} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("%s %s is not in the document", method, path)
		}
	}
	for path := range doc.Paths {
		if strings.Contains(path, "/internal/") {
			t.Errorf("the public document names the internal API: %s", path)
		}
	}
}

// TestOpenAPISchemasMatchTheGoTypes compares the document's schemas with
// the JSON fields of the types the API writes, so neither drifts.
func TestOpenAPISchemasMatchTheGoTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"Record": Record{}, "Request": Request{}, "Decision": Decision{}} {
		var fields []string
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			if tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
				fields = append(fields, tag)
			}
		}
		var props []string
		for p := range doc.Components.Schemas[name].Properties {
			props = append(props, p)
		}
		sort.Strings(fields)
		sort.Strings(props)
		if strings.Join(fields, ",") != strings.Join(props, ",") {
			t.Errorf("schema %s has %v, the Go type %v", name, props, fields)
		}
	}
}

func TestSubscriptionValidateChecksApprovalAndBudget(t *testing.T) {
	base := func() Subscription {
		return Subscription{ID: subA, Execution: ExecutionContext{TenantID: guid, ClientID: guid, VaultURL: "https://v.vault.azure.net", CertificateName: "exec"}}
	}
	cases := []struct {
		name string
		edit func(s *Subscription)
		code string
	}{
		{"plain", func(s *Subscription) {}, ""},
		{"secret instead of a certificate", func(s *Subscription) { s.Execution.CertificateName = "" }, "InvalidExecutionContext"},
		{"vault over http", func(s *Subscription) { s.Execution.VaultURL = "http://v.vault.azure.net" }, "InvalidExecutionContext"},
		{"approval", func(s *Subscription) { s.Approval = &Approval{Environments: []string{"prod"}, ApproverGroupID: devs} }, ""},
		{"approval by a name", func(s *Subscription) {
			s.Approval = &Approval{Environments: []string{"prod"}, ApproverGroupID: "approvers"}
		}, "InvalidApproval"},
		{"approval of nothing", func(s *Subscription) { s.Approval = &Approval{ApproverGroupID: devs} }, "InvalidApproval"},
		{"budget", func(s *Subscription) {
			s.Budget = &Budget{Amount: 10, TimeGrain: "Monthly", Notifications: []BudgetNotification{{Threshold: 90, ContactEmails: []string{"a@b.c"}}}}
		}, ""},
		{"budget without amount", func(s *Subscription) { s.Budget = &Budget{TimeGrain: "Monthly"} }, "InvalidBudget"},
		{"weekly budget", func(s *Subscription) { s.Budget = &Budget{Amount: 1, TimeGrain: "Weekly"} }, "InvalidBudget"},
		{"notification without contact", func(s *Subscription) {
			s.Budget = &Budget{Amount: 1, TimeGrain: "Monthly", Notifications: []BudgetNotification{{Threshold: 90}}}
		}, "InvalidBudget"},
	}
	for _, tc := range cases {
		s := base()
		tc.edit(&s)
		err := s.Validate()
		if tc.code == "" && err != nil || tc.code != "" && arm.AsError(err).Code != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
}

func TestNeedsApprovalOnlyForTheNamedEnvironments(t *testing.T) {
	s := Subscription{Approval: &Approval{Environments: []string{"prod"}, ApproverGroupID: strings.ToUpper(devs)}}
	if got := s.needsApproval("prod"); got != devs {
		t.Errorf("prod: %q", got)
	}
	if got := s.needsApproval("dev"); got != "" {
		t.Errorf("dev: %q", got)
	}
	if got := (&Subscription{}).needsApproval("prod"); got != "" {
		t.Errorf("no approval: %q", got)
	}
}

func TestShortKeepsTheUpstreamARMErrorInALine(t *testing.T) {
	mk := func(method string, status int, body string) error {
		req, _ := http.NewRequest(method, "https://management.azure.com/subscriptions/s/resourcegroups/rg", nil)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: req}
		return runtime.NewResponseError(resp)
	}
	e := arm.AsError(short(mk(http.MethodPut, 429, `{"error":{"code":"SubscriptionRequestsThrottled","message":"Too many writes."}}`)))
	if e.Status != 429 || e.Code != "SubscriptionRequestsThrottled" || e.Message != "Too many writes." {
		t.Errorf("PUT: %+v", e)
	}
	e = arm.AsError(short(mk(http.MethodHead, 429, "")))
	if e.Status != 429 || e.Code != "TooManyRequests" || !strings.Contains(e.Message, "HEAD /subscriptions/s/resourcegroups/rg answered 429") {
		t.Errorf("HEAD: %+v", e)
	}
	plain := errors.New("dial tcp: refused")
	if short(plain) != plain {
		t.Error("a transport error is changed")
	}
}
