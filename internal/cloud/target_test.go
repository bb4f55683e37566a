package cloud

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestParseTargetClassifiesPaths(t *testing.T) {
	reg := newRegistry()
	_ = reg.add(Route{Type: "Microsoft.PolicyInsights/policyStates", Action: "queryResults", Handler: serveNothing})
	const s = "/subscriptions/s1"
	const rg = s + "/resourceGroups/rg1"
	cases := []struct {
		method, path string
		want         Target
	}{
		{"GET", "/subscriptions", Target{Type: TypeSubscription, Scope: "/", Collection: true}},
		{"GET", s, Target{ID: s, Type: TypeSubscription, Name: "s1", Scope: "/"}},
		{"GET", s + "/resourcegroups", Target{Type: TypeResourceGroup, Scope: s, Collection: true}},
		{"PUT", s + "/resourcegroups/rg1", Target{ID: rg, Type: TypeResourceGroup, Name: "rg1", Scope: s}},
		{"GET", rg + "/resources", Target{Type: TypeResources, Scope: rg, Collection: true}},
		{"PUT", rg + "/providers/Microsoft.Sql/servers/a/databases/b",
			Target{ID: rg + "/providers/Microsoft.Sql/servers/a/databases/b", Type: "Microsoft.Sql/servers/databases", Name: "b",
				Scope: rg + "/providers/Microsoft.Sql/servers/a"}},
		{"GET", rg + "/providers/Microsoft.Sql/servers/a/databases",
			Target{Type: "Microsoft.Sql/servers/databases", Scope: rg + "/providers/Microsoft.Sql/servers/a", Collection: true}},
		{"GET", rg + "/providers/Microsoft.Sql/servers", Target{Type: "Microsoft.Sql/servers", Scope: rg, Collection: true}},
		{"POST", rg + "/providers/Microsoft.Web/sites/w/restart",
			Target{ID: rg + "/providers/Microsoft.Web/sites/w", Type: "Microsoft.Web/sites", Name: "w", Scope: rg, Action: "restart"}},
		{"PUT", rg + "/providers/Microsoft.Web/sites/w/providers/Microsoft.Authorization/roleAssignments/ra",
			Target{ID: rg + "/providers/Microsoft.Web/sites/w/providers/Microsoft.Authorization/roleAssignments/ra",
				Type: TypeRoleAssignment, Name: "ra", Scope: rg + "/providers/Microsoft.Web/sites/w"}},
		{"GET", s + "/providers/Microsoft.Authorization/roleAssignments", Target{Type: TypeRoleAssignment, Scope: s, Collection: true}},
		{"GET", "/providers/Microsoft.Authorization/roleDefinitions", Target{Type: TypeRoleDefinition, Scope: "/", Collection: true}},
		{"GET", s + "/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults",
			Target{ID: s + "/providers/Microsoft.PolicyInsights/policyStates/latest", Type: "Microsoft.PolicyInsights/policyStates",
				Name: "latest", Scope: s, Action: "queryResults"}},
		{"GET", "/providers/Microsoft.Management/managementGroups/mg", Target{ID: mgPrefix + "mg", Type: TypeManagementGroup, Name: "mg", Scope: "/"}},
		{"GET", "/providers/Microsoft.Management/managementGroups", Target{Type: TypeManagementGroup, Scope: "/", Collection: true}},
		{"PUT", "/providers/Microsoft.Management/managementGroups/mg/subscriptions/s1",
			Target{ID: mgPrefix + "mg/subscriptions/s1", Type: TypeMGSubscription, Name: "s1", Scope: mgPrefix + "mg"}},
		{"PUT", rg + "/providers/Microsoft.Resources/tags/default",
			Target{ID: rg + "/providers/Microsoft.Resources/tags/default", Type: TypeTags, Name: "default", Scope: rg}},
		{"POST", s + "/providers/Microsoft.Web/register",
			Target{ID: s + "/providers/Microsoft.Web", Type: TypeProvider, Name: "Microsoft.Web", Scope: s, Action: "register"}},
		{"GET", s + "/providers", Target{Type: TypeProvider, Scope: s, Collection: true}},
		{"GET", s + "/operationresults/abc", Target{ID: s + "/operationresults/abc", Type: TypeOperationResult, Name: "abc", Scope: s}},
	}
	for _, c := range cases {
		got, err := parseTarget(c.method, c.path, reg)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		got.Resource = nil
		if got != c.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.method, c.path, got, c.want)
		}
	}
}

func TestParseTargetRejectsMalformedPaths(t *testing.T) {
	for _, p := range []string{"/", "//", "/subscriptions//resourceGroups/x", "/subscriptions/s/resourceGroups/a/b",
		"/subscriptions/s/resourceGroups/rg/providers", "/foo/bar", "/subscriptions/s/resourceGroups/rg/providers/ns/t/n/providers",
		"/subscriptions/ s", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/ty|pe/n", "/subscriptions/s/providers/Bad|NS/t",
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/t/a\x01b", "/subscriptions/" + strings.Repeat("x/", 100), "/providers/Microsoft.Management/managementGroups/m/subscriptions/a/b"} {
		if got, err := parseTarget(http.MethodGet, p, newRegistry()); err == nil {
			t.Errorf("%q parsed as %+v", p, got)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/a/databases/b",
		"/providers/Microsoft.Management/managementGroups/mg/subscriptions/s", "/subscriptions/s/resources",
		"/subscriptions/s/providers/Microsoft.PolicyInsights/policyStates/latest/queryResults", "/subscriptions/s/operationresults/x"} {
		f.Add("GET", s)
	}
	reg := newRegistry()
	f.Fuzz(func(t *testing.T, method, path string) {
		tg, err := parseTarget(method, path, reg)
		if err != nil {
			return
		}
		if tg.Type == "" || (tg.ID == "") != tg.Collection {
			t.Fatalf("%q: incoherent target %+v", path, tg)
		}
	})
}

func serveNothing(_ context.Context, _ *Call) (*Response, error) { return nil, nil }
