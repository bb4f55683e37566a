package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// baselineTemplate wraps resources (JSON texts) in a template; the first
// resource starts on line 4.
func baselineTemplate(resources ...string) string {
	return "{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n  \"contentVersion\": \"1.0.0.0\",\n  \"resources\": [\n" +
		strings.Join(resources, ",\n") + "\n  ]\n}\n"
}

const okTags = `"tags": {"environment": "dev", "costCenter": "cc-1"}`

func storageRes(props, extra string) string {
	return `    {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2022-09-01", "name": "st1", "location": "westeurope", ` + extra +
		`"kind": "StorageV2", "sku": {"name": "Standard_LRS"}, "properties": ` + props + `}`
}

const diagForStorage = `    {"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview", "name": "d", "scope": "Microsoft.Storage/storageAccounts/st1", "properties": {"workspaceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", "metrics": [{"category": "AllMetrics", "enabled": true}]}}`

const secureStorage = `{"supportsHttpsTrafficOnly": true, "minimumTlsVersion": "TLS1_2"}`

func nsgRes(source, port string) string {
	return `    {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "nsg1", "location": "westeurope", ` + okTags +
		`, "properties": {"securityRules": [{"name": "r", "properties": {"access": "Allow", "direction": "Inbound", "protocol": "Tcp", "priority": 100, "sourceAddressPrefix": "` +
		source + `", "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "` + port + `"}}]}}`
}

const diagForNSG = `    {"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview", "name": "d", "scope": "Microsoft.Network/networkSecurityGroups/nsg1", "properties": {"workspaceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", "metrics": [{"category": "AllMetrics", "enabled": true}]}}`

func vmRes(image string) string {
	return `    {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2022-11-01", "name": "vm1", "location": "westeurope", ` + okTags +
		`, "properties": {"storageProfile": {"imageReference": ` + image + `}}}`
}

const diagForVM = `    {"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview", "name": "d", "scope": "Microsoft.Compute/virtualMachines/vm1", "properties": {"workspaceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", "metrics": [{"category": "AllMetrics", "enabled": true}]}}`

func vaultRes(purge string) string {
	return `    {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2022-07-01", "name": "kv1", "location": "westeurope", ` + okTags +
		`, "properties": {"tenantId": "00000000-0000-0000-0000-000000000000", "sku": {"family": "A", "name": "standard"}` + purge + `}}`
}

const diagForVault = `    {"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview", "name": "d", "scope": "Microsoft.KeyVault/vaults/kv1", "properties": {"workspaceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w", "metrics": [{"category": "AllMetrics", "enabled": true}]}}`

// baselineCase is a template breaking one baseline rule and its
// compliant version.
type baselineCase struct{ rule, bad, good string }

func baselineCases() []baselineCase {
	gallery := `{"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/img/providers/Microsoft.Compute/galleries/g/images/ubuntu/versions/1.0.0"}`
	return []baselineCase{
		{"requiredTags", baselineTemplate(storageRes(secureStorage, `"tags": {"environment": "staging", "costCenter": "cc-1"}, `), diagForStorage),
			baselineTemplate(storageRes(secureStorage, okTags+", "), diagForStorage)},
		{"allowedLocations", baselineTemplate(strings.Replace(storageRes(secureStorage, okTags+", "), "westeurope", "eastus", 1), diagForStorage),
			baselineTemplate(storageRes(secureStorage, okTags+", "), diagForStorage)},
		{"nsgNoInternetAdmin", baselineTemplate(nsgRes("Internet", "22"), diagForNSG), baselineTemplate(nsgRes("10.0.0.0/8", "22"), diagForNSG)},
		{"nsgNoInternetAdmin", baselineTemplate(nsgRes("*", "3389"), diagForNSG), baselineTemplate(nsgRes("*", "443"), diagForNSG)},
		{"diagnosticsToWorkspace", baselineTemplate(storageRes(secureStorage, okTags+", ")), baselineTemplate(storageRes(secureStorage, okTags+", "), diagForStorage)},
		{"approvedImages", baselineTemplate(vmRes(`{"publisher": "Canonical", "offer": "ubuntu", "sku": "22_04-lts", "version": "latest"}`), diagForVM),
			baselineTemplate(vmRes(gallery), diagForVM)},
		{"storageSecureTransfer", baselineTemplate(storageRes(`{"supportsHttpsTrafficOnly": false, "minimumTlsVersion": "TLS1_2"}`, okTags+", "), diagForStorage),
			baselineTemplate(storageRes(secureStorage, okTags+", "), diagForStorage)},
		{"storageSecureTransfer", baselineTemplate(storageRes(`{"supportsHttpsTrafficOnly": true, "minimumTlsVersion": "TLS1_0"}`, okTags+", "), diagForStorage),
			baselineTemplate(storageRes(secureStorage, okTags+", "), diagForStorage)},
		{"keyVaultPurgeProtection", baselineTemplate(vaultRes(""), diagForVault), baselineTemplate(vaultRes(`, "enablePurgeProtection": true`), diagForVault)},
	}
}

// TestTemplateCheckBaselineRules: for each baseline rule, a template that
// breaks it exits 1 with a SARIF result on the resource's line, and the
// compliant version exits 0.
func TestTemplateCheckBaselineRules(t *testing.T) {
	cases := baselineCases()
	// The NSG rule reads aliases whose paths differ from the default rule
	// (securityRules[*].properties.access): it needs the alias table.
	const aliases = "../../../shared/corpus/aliases/policy-aliases.csv.gz"
	if _, err := os.Stat(aliases); err != nil {
		t.Skipf("alias table not found: %v", err)
	}
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			bad := filepath.Join(dir, c.rule+"-bad-"+string(rune('a'+i))+".json")
			good := filepath.Join(dir, c.rule+"-good-"+string(rune('a'+i))+".json")
			if err := os.WriteFile(bad, []byte(c.bad), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(good, []byte(c.good), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runCLI(t, "template", "check", bad, "-o", "sarif", "--aliases", aliases)
			var ex *exitError
			if !errors.As(err, &ex) || ex.code != 1 {
				t.Fatalf("violating template: err = %v, want exit 1\n%s", err, out)
			}
			var sarif struct {
				Runs []struct {
					Results []struct {
						Properties map[string]any `json:"properties"`
						Locations  []struct {
							PhysicalLocation struct {
								ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
								Region           struct{ StartLine int } `json:"region"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(out), &sarif); err != nil {
				t.Fatalf("SARIF: %v\n%s", err, out)
			}
			found := false
			for _, r := range sarif.Runs[0].Results {
				if r.Properties["policyDefinitionReferenceId"] != c.rule {
					continue
				}
				found = true
				loc := r.Locations[0].PhysicalLocation
				if loc.Region.StartLine != 5 || !strings.HasSuffix(loc.ArtifactLocation.URI, filepath.Base(bad)) {
					t.Errorf("location = %s:%d, want the resource's line 5 of %s", loc.ArtifactLocation.URI, loc.Region.StartLine, bad)
				}
			}
			if !found {
				t.Errorf("no SARIF result for %s:\n%s", c.rule, out)
			}
			if out, err := runCLI(t, "template", "check", good, "-o", "json", "--aliases", aliases); err != nil {
				t.Errorf("compliant template: %v\n%s", err, out)
			}
		})
	}
}

// TestTemplateCheckInputErrors: a template or parameter file that cannot
// be expanded is an input error (exit 2), never a pass.
func TestTemplateCheckInputErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withParam := `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "parameters": {"n": {"type": "int", "maxValue": 3}}, "resources": []}`
	cases := []struct{ name, tmpl, params string }{
		{"not json", `{"resources": [`, ""},
		{"cycle", baselineTemplate(`{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "a", "dependsOn": ["a2"]}`, `{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01", "name": "a2", "dependsOn": ["a"]}`), ""},
		{"missing parameter", withParam, ""},
		{"parameter out of range", withParam, `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {"n": {"value": 9}}}`},
		{"unknown parameter", withParam, `{"n": 1, "zzz": 2}`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"template", "check", write(string(rune('a'+i))+".json", c.tmpl)}
			if c.params != "" {
				args = append(args, "--parameters", write(string(rune('a'+i))+".parameters.json", c.params))
			}
			out, err := runCLI(t, args...)
			var ex *exitError
			if err == nil || errors.As(err, &ex) {
				t.Fatalf("err = %v (%T), want an input error (exit 2)\n%s", err, err, out)
			}
		})
	}
}

// TestTemplateCheckLinkedTemplate checks a template that links another by
// relativePath: the finding's SARIF location is the linked file's line.
func TestTemplateCheckLinkedTemplate(t *testing.T) {
	out, err := runCLI(t, "template", "check", "../../examples/templates/main-linked.json", "--parameters", `{"source": "Internet"}`, "-o", "sarif")
	var ex *exitError
	if !errors.As(err, &ex) || ex.code != 1 {
		t.Fatalf("err = %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(out, `"artifactLocation":{"uri":"../../examples/templates/linked/nsg.json"},"region":{"startLine":9}`) {
		t.Errorf("no finding located in the linked template:\n%s", out)
	}
	if _, err := runCLI(t, "template", "check", "../../examples/templates/main-linked.json", "--parameters", `{"source": "Internet"}`, "--policy", "../../examples/templates/linked/nsg.json"); err == nil {
		t.Error("a template given as --policy was accepted")
	}
}
