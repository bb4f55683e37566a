package template

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var testScope = Scope{TenantID: "72f988bf-0000-0000-0000-000000000001", SubscriptionID: "00000000-0000-0000-0000-000000000001",
	ResourceGroup: "rg1", Location: "westeurope"}

const rgID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1"

func load(t *testing.T, name string) *Template {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tm.File = name
	return tm
}

func expandFile(t *testing.T, name string, params map[string]any) (*Result, error) {
	t.Helper()
	return Expand(load(t, name), Options{Scope: testScope, DeploymentName: "d1", Parameters: params,
		Now: func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }})
}

// TestExpandQuickstarts expands the quickstart-style templates and checks
// the resources, their order and their evaluated documents.
func TestExpandQuickstarts(t *testing.T) {
	cases := []struct {
		file   string
		params map[string]any
		ids    []string // in order
		check  func(t *testing.T, r *Result)
	}{
		{file: "storage.json", ids: []string{rgID + "/providers/Microsoft.Storage/storageAccounts/store{u}"},
			check: func(t *testing.T, r *Result) {
				b := r.Resources[0].Body
				if b["location"] != "westeurope" || b["kind"] != "StorageV2" {
					t.Errorf("body = %v", b)
				}
				if sku := b["sku"].(map[string]any)["name"]; sku != "Standard_LRS" {
					t.Errorf("sku = %v", sku)
				}
				out := r.Outputs["storageAccountId"].(map[string]any)
				if out["type"] != "String" || out["value"] != r.Resources[0].ID {
					t.Errorf("output = %v, want the resource ID %s", out, r.Resources[0].ID)
				}
				if r.Resources[0].Pos.Line != 17 {
					t.Errorf("line = %d, want 17", r.Resources[0].Pos.Line)
				}
			}},
		{file: "vnet-nsg.json", ids: []string{rgID + "/providers/Microsoft.Network/networkSecurityGroups/vnet1-nsg",
			rgID + "/providers/Microsoft.Network/virtualNetworks/vnet1"},
			check: func(t *testing.T, r *Result) {
				if got := r.Resources[1].DependsOn; len(got) != 1 || got[0] != r.Resources[0].ID {
					t.Errorf("dependsOn = %v", got)
				}
			}},
		{file: "vm.json", params: map[string]any{"adminPassword": map[string]any{"value": "S3cret!pass"}},
			ids: []string{rgID + "/providers/Microsoft.Network/networkInterfaces/vm1-nic",
				rgID + "/providers/Microsoft.Compute/virtualMachines/vm1",
				rgID + "/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Insights/diagnosticSettings/to-workspace"},
			check: func(t *testing.T, r *Result) {
				if p := r.Parameters["adminPassword"].(map[string]any); p["value"] != nil || p["type"] != "SecureString" {
					t.Errorf("secure parameter leaked: %v", p)
				}
				img := r.Resources[1].Body["properties"].(map[string]any)["storageProfile"].(map[string]any)["imageReference"].(map[string]any)["id"]
				if img != "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Compute/galleries/gallery1/images/ubuntu/versions/1.0.0" {
					t.Errorf("image id = %v", img)
				}
				if out := r.Outputs["nicIp"].(map[string]any)["value"].(map[string]any); out["ipConfigurations"] == nil {
					t.Errorf("reference output = %v", out)
				}
			}},
		{file: "copy.json", ids: []string{rgID + "/providers/Microsoft.Network/publicIPAddresses/pip0",
			rgID + "/providers/Microsoft.Network/publicIPAddresses/pip1", rgID + "/providers/Microsoft.Network/publicIPAddresses/pip2",
			rgID + "/providers/Microsoft.Network/networkInterfaces/nic-after-loop"},
			check: func(t *testing.T, r *Result) {
				labels := r.Resources[2].Body["properties"].(map[string]any)["dnsLabels"].([]any)
				if len(labels) != 2 || labels[0] != "rule1-2" || labels[1] != "rule2-2" {
					t.Errorf("property copy = %v", labels)
				}
				if n := len(r.Resources[3].DependsOn); n != 3 {
					t.Errorf("dependsOn the loop = %d resources, want 3", n)
				}
				if ids := r.Outputs["ids"].(map[string]any)["value"].([]any); len(ids) != 3 || ids[2] != r.Resources[2].ID {
					t.Errorf("output copy = %v", ids)
				}
			}},
		{file: "nested.json", ids: []string{rgID + "/providers/Microsoft.KeyVault/vaults/kv-nested",
			rgID + "/providers/Microsoft.Resources/deployments/inner",
			rgID + "/providers/Microsoft.Network/networkSecurityGroups/nsg-outer",
			rgID + "/providers/Microsoft.Resources/deployments/outer"},
			check: func(t *testing.T, r *Result) {
				if tag := r.Resources[0].Body["tags"].(map[string]any)["scope"]; tag != "from-inner" {
					t.Errorf("inner scope variable = %v", tag)
				}
				if tag := r.Resources[2].Body["tags"].(map[string]any)["scope"]; tag != "from-parent" {
					t.Errorf("outer scope variable = %v", tag)
				}
				if v := r.Outputs["vaultId"].(map[string]any)["value"]; v != r.Resources[0].ID {
					t.Errorf("nested output through reference = %v", v)
				}
				if !r.Resources[1].Nested || r.Resources[0].Deployment != "inner" {
					t.Errorf("nested markers: %+v", r.Resources[1])
				}
			}},
		{file: "bicep.json", ids: []string{rgID + "/providers/Microsoft.Storage/storageAccounts/st{u}",
			rgID + "/providers/Microsoft.Storage/storageAccounts/st{u}/blobServices/default",
			rgID + "/providers/Microsoft.Storage/storageAccounts/st{u}/providers/Microsoft.Insights/diagnosticSettings/to-workspace"},
			check: func(t *testing.T, r *Result) {
				if r.Resources[0].Symbolic != "storage" {
					t.Errorf("symbolic = %q", r.Resources[0].Symbolic)
				}
				if v := r.Outputs["httpsOnly"].(map[string]any)["value"]; v != true {
					t.Errorf("reference(symbolic) = %v", v)
				}
				if c := r.Outputs["containers"].(map[string]any)["value"].([]any); len(c) != 1 || c[0] != "logs-1" {
					t.Errorf("lambda output = %v", c)
				}
				if p := r.Parameters["deployedAt"].(map[string]any)["value"]; p != "20240102T030405Z" {
					t.Errorf("utcNow default = %v", p)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r, err := expandFile(t, c.file, c.params)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, res := range r.Resources {
				got = append(got, res.ID)
			}
			if len(got) != len(c.ids) {
				t.Fatalf("resources = %v\nwant %v", got, c.ids)
			}
			for i := range got {
				// "{u}" stands for a uniqueString() hash.
				re := regexp.MustCompile("(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(c.ids[i]), `\{u\}`, "[a-z0-9]{13}") + "$")
				if !re.MatchString(got[i]) {
					t.Errorf("resource %d = %s, want %s", i, got[i], c.ids[i])
				}
			}
			if c.check != nil {
				c.check(t, r)
			}
		})
	}
}

// TestExpandRejects lists templates and parameters that must not expand,
// each with the message it gives.
func TestExpandRejects(t *testing.T) {
	const head = `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", `
	res := func(name, extra string) string {
		return `{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "` + name + `", "location": "westeurope"` + extra + `}`
	}
	cases := []struct {
		name, tmpl string
		params     map[string]any
		want       string
	}{
		{"cycle", head + `"resources": [` + res("a", `, "dependsOn": ["b"]`) + `,` + res("b", `, "dependsOn": ["a"]`) + `]}`, nil, "Circular dependency"},
		{"unknown dependency", head + `"resources": [` + res("a", `, "dependsOn": ["zzz"]`) + `]}`, nil, "'zzz' is not defined"},
		{"missing parameter", head + `"parameters": {"p": {"type": "string"}}, "resources": []}`, nil, "'p' at line '1'"},
		{"not allowed value", head + `"parameters": {"p": {"type": "string", "allowedValues": ["a"]}}, "resources": []}`, map[string]any{"p": "b"}, "not part of the allowed value"},
		{"wrong type", head + `"parameters": {"p": {"type": "int"}}, "resources": []}`, map[string]any{"p": "x"}, "Expected 'Integer'"},
		{"below minimum", head + `"parameters": {"p": {"type": "int", "minValue": 2}}, "resources": []}`, map[string]any{"p": 1}, "less than the minimum"},
		{"too long", head + `"parameters": {"p": {"type": "string", "maxLength": 2}}, "resources": []}`, map[string]any{"p": "abc"}, "less than or equal to '2'"},
		{"undeclared parameter", head + `"resources": []}`, map[string]any{"nope": 1}, "'nope' in the parameters file are not valid"},
		{"newGuid outside default", head + `"resources": [` + res("[newGuid()]", "") + `]}`, nil, "'newGuid' is not expected"},
		{"copyIndex outside loop", head + `"resources": [` + res("[string(copyIndex())]", "") + `]}`, nil, "'copyIndex' is not expected"},
		{"duplicate", head + `"resources": [` + res("a", "") + `,` + res("a", "") + `]}`, nil, "defined multiple times"},
		{"unknown function", head + `"resources": [` + res("[nosuch()]", "") + `]}`, nil, "nosuch"},
		{"copy too large", head + `"resources": [` + res("[string(copyIndex())]", `, "copy": {"name": "l", "count": 801}`) + `]}`, nil, "between 0 and 800"},
		{"no schema", `{"contentVersion": "1.0.0.0", "resources": []}`, nil, "missing '$schema'"},
		{"unknown top-level key", head + `"resourcez": []}`, nil, "'resourcez' is not allowed"},
		{"bad type segments", head + `"resources": [{"type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2022-07-01", "name": "x"}]}`, nil, "incorrect segment lengths"},
		{"self reference", head + `"resources": [` + res("a", `, "properties": {"x": "[reference('a').y]"}`) + `]}`, nil, "Circular dependency"},
		{"variable cycle", head + `"variables": {"a": "[variables('b')]", "b": "[variables('a')]"}, "resources": [` + res("[variables('a')]", "") + `]}`, nil, "refers to itself"},
		{"not json", `{"$schema": `, nil, "not valid JSON"},
		{"listKeys in a name offline", head + `"resources": [` + res("[listKeys('x', '2022-01-01').keys[0].value]", "") + `]}`, nil, "cannot be evaluated before the deployment runs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm, err := Parse([]byte(c.tmpl))
			if err == nil {
				_, err = Expand(tm, Options{Scope: testScope, DeploymentName: "d", Parameters: c.params})
			}
			if err == nil {
				t.Fatalf("expanded; want an error containing %q", c.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("error is %T, want *Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestStandardJSON checks the lenient forms ARM accepts.
func TestStandardJSON(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a": 1}`, `{"a": 1}`},
		{`{"properties": {"mode": "Incremental"}, template:{"x": "a // not a comment", /* c */ "y": [1, 2,],}}`,
			`{"properties": {"mode": "Incremental"}, "template":{"x": "a // not a comment",  "y": [1, 2]}}`},
		{"{\n  // comment\n  \"a\": \"b\\\"c\"\n}", "{\n  \n  \"a\": \"b\\\"c\"\n}"},
		{`{"s": "x, }"}`, `{"s": "x, }"}`},
	}
	for _, c := range cases {
		if got := string(StandardJSON([]byte(c.in))); got != c.want {
			t.Errorf("StandardJSON(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
