package interop

import (
	"encoding/json"
	"strings"
	"testing"
)

// azCase is one az command run after login; check, when set, inspects
// its JSON output.
type azCase struct {
	name  string
	args  []string
	check func(t *testing.T, out []byte)
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

// wantLacks returns a check that the output does not hold s.
func wantLacks(s string) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		if strings.Contains(strings.ToLower(string(out)), strings.ToLower(s)) {
			t.Errorf("output holds %q:\n%s", s, out)
		}
	}
}

// all returns a check that runs each of checks.
func all(checks ...func(t *testing.T, out []byte)) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		for _, c := range checks {
			c(t, out)
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
			check: all(wantContains(site), wantLacks("/resourceGroups/steward/"))},
		{name: "resource delete", args: []string{"resource", "delete", "--ids", site, "--api-version", "2022-03-01"}},
		{name: "keyvault list", args: []string{"keyvault", "list"}, check: wantContains("/resourceGroups/steward/providers/Microsoft.KeyVault/vaults/steward")},
		{name: "keyvault show", args: []string{"keyvault", "show", "-n", "steward", "-g", "steward"}, check: wantField("properties.enableRbacAuthorization", true)},
		{name: "management group list", args: []string{"account", "management-group", "list"}, check: wantContains(`"name": "` + s.Info.TenantID + `"`)},
		{name: "provider show", args: []string{"provider", "show", "-n", "Microsoft.KeyVault"}, check: wantField("namespace", "Microsoft.KeyVault")},
		{name: "provider list", args: []string{"provider", "list"},
			check: all(wantContains(`"namespace": "Microsoft.Resources"`), wantContains(`"registrationState": "Registered"`))},
		{name: "activity log", args: []string{"monitor", "activity-log", "list", "--offset", "1h"},
			check: wantContains("/resourceGroups/az-more/providers/Microsoft.Web/sites/site1")},
	} {
		t.Run(c.name, func(t *testing.T) {
			survey(t, azDirect, azGroup(c.args)+": az "+strings.Join(c.args[:2], " "))
			out, err := az.run(append(c.args, "-o", "json")...)
			if err != nil {
				t.Fatalf("az %s: %v\n%s\nSteward's requests:\n%s", strings.Join(c.args, " "), err, out, s.requestLog())
			}
			if c.check != nil {
				c.check(t, []byte(out))
			}
		})
	}
}

// azDirect is the survey's name for az talking to Steward's own address,
// which needs `az cloud register` (docs/interop.md).
const azDirect = "az 2.45, direct (needs az cloud register)"

// azGroup is the survey's operation group of an az command.
func azGroup(args []string) string {
	switch args[0] {
	case "group":
		return "resource groups"
	case "resource":
		return "resources"
	case "tag":
		return "tags"
	case "keyvault":
		return "Key Vault (ARM)"
	case "provider":
		return "providers"
	case "monitor":
		return "activity log"
	case "account":
		return "management groups"
	}
	return args[0]
}
