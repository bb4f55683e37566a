package interop

import (
	"encoding/json"
	"strings"
	"testing"
)

// azCase is one az command run after login: either it works and check
// inspects its JSON output, or it fails today because Steward lacks what
// it needs (gap, with the error az prints).
type azCase struct {
	name  string
	args  []string
	check func(t *testing.T, out []byte)
	// gap names an entry of docs/decisions/interop.md; openErr is part of
	// the error az prints while it is open.
	gap, openErr string
}

// field decodes out and reports the value at a dotted path of object keys.
func field(t *testing.T, out []byte, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no %s in %s", path, out)
		}
		v = m[k]
	}
	return v
}

// wantField returns a check that the value at path is want.
func wantField(path string, want any) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		if got := field(t, out, path); got != want {
			t.Errorf("%s = %v, want %v\n%s", path, got, want, out)
		}
	}
}

// wantContains returns a check that the output holds s.
func wantContains(s string) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		if !strings.Contains(strings.ToLower(string(out)), strings.ToLower(s)) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// resourceCommands runs, signed in, the az commands beyond resource
// groups: generic resources, tags, Key Vault management, management
// groups, providers and the activity log.
func resourceCommands(t *testing.T, s *served, az *azCLI) {
	az.json(t, nil, "group", "create", "-n", "az-more", "-l", "westeurope")
	site := "/subscriptions/" + s.Info.SubscriptionID + "/resourceGroups/az-more/providers/Microsoft.Web/sites/site1"
	for _, c := range []azCase{
		{name: "group update", args: []string{"group", "update", "-n", "az-more", "--tags", "team=a"}, check: wantField("tags.team", "a")},
		{name: "resource create", args: []string{"resource", "create", "--id", site, "-l", "westeurope", "--api-version", "2022-03-01", "--properties", `{"httpsOnly":true}`},
			check: wantField("properties.httpsOnly", true)},
		{name: "resource show", args: []string{"resource", "show", "--ids", site, "--api-version", "2022-03-01"}, check: wantField("name", "site1")},
		{name: "resource tag", args: []string{"resource", "tag", "--ids", site, "--tags", "app=one", "--api-version", "2022-03-01"}, check: wantField("tags.app", "one")},
		{name: "tag list", args: []string{"tag", "list", "--resource-id", site}, check: wantField("properties.tags.app", "one")},
		{name: "resource list in a group", args: []string{"resource", "list", "-g", "az-more"},
			gap: "resource-list-resourcegroup-filter", openErr: "The $filter 'resourceGroup eq 'az-more'' is invalid"},
		{name: "resource delete", args: []string{"resource", "delete", "--ids", site, "--api-version", "2022-03-01"}},
		{name: "keyvault list", args: []string{"keyvault", "list"}, check: wantContains("/resourceGroups/steward/providers/Microsoft.KeyVault/vaults/steward")},
		{name: "keyvault show", args: []string{"keyvault", "show", "-n", "steward", "-g", "steward"}, check: wantField("properties.enableRbacAuthorization", true)},
		{name: "management group list", args: []string{"account", "management-group", "list"}, check: wantContains(`"name": "` + s.Info.TenantID + `"`)},
		{name: "provider show", args: []string{"provider", "show", "-n", "Microsoft.KeyVault"}, check: wantField("namespace", "Microsoft.KeyVault")},
		{name: "provider list", args: []string{"provider", "list"},
			gap: "provider-list", openErr: "(InvalidRequestUri) The request URI '/subscriptions/" + s.Info.SubscriptionID + "/providers' is not valid"},
		{name: "activity log", args: []string{"monitor", "activity-log", "list", "--offset", "1h"},
			gap: "activity-log-unquoted-timestamps", openErr: "(InvalidFilterInQueryString) The $filter 'eventTimestamp ge 20"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := az.run(append(c.args, "-o", "json")...)
			switch {
			case c.gap != "" && err == nil:
				t.Errorf("az %s succeeded: gap %s is closed; make this case a passing one and update docs/decisions/interop.md\n%s", strings.Join(c.args, " "), c.gap, out)
			case c.gap != "" && !strings.Contains(out, c.openErr):
				t.Errorf("az %s failed otherwise than gap %s (%q):\n%s", strings.Join(c.args, " "), c.gap, c.openErr, out)
			case c.gap == "" && err != nil:
				t.Fatalf("az %s: %v\n%s", strings.Join(c.args, " "), err, out)
			case c.check != nil:
				c.check(t, []byte(out))
			}
		})
	}
}
