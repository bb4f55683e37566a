package template_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/steward-gov/steward/internal/policy/baseline"
	"github.com/steward-gov/steward/internal/policy/scan"
	"github.com/steward-gov/steward/internal/template"
)

// bigTemplate is a template of groups x perGroup resources: a copy loop
// of nested deployments, each with a copy loop of network security groups
// (Azure caps a template at 800 resources and a loop at 800, so 5,000
// resources take nested deployments).
func bigTemplate(groups, perGroup int) []byte {
	inner := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"parameters":     map[string]any{"group": map[string]any{"type": "int"}, "count": map[string]any{"type": "int"}},
		"resources": []any{map[string]any{
			"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2022-07-01",
			"name":     "[format('nsg-{0}-{1}', parameters('group'), copyIndex())]",
			"location": "[resourceGroup().location]",
			"tags":     map[string]any{"environment": "dev", "costCenter": "[format('cc-{0}', parameters('group'))]"},
			"copy":     map[string]any{"name": "nsgs", "count": "[parameters('count')]"},
			"properties": map[string]any{"securityRules": []any{map[string]any{"name": "https", "properties": map[string]any{
				"access": "Allow", "direction": "Inbound", "protocol": "Tcp", "priority": 100,
				"sourceAddressPrefix": "[if(equals(mod(copyIndex(), 100), 0), 'Internet', '10.0.0.0/8')]", "sourcePortRange": "*",
				"destinationAddressPrefix": "*", "destinationPortRange": "[if(equals(mod(copyIndex(), 100), 0), '22', '443')]"}}}},
		}},
	}
	outer := map[string]any{
		"$schema":        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
		"contentVersion": "1.0.0.0",
		"resources": []any{map[string]any{
			"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01",
			"name": "[format('group-{0}', copyIndex())]",
			"copy": map[string]any{"name": "groups", "count": groups},
			"properties": map[string]any{
				"mode":                        "Incremental",
				"expressionEvaluationOptions": map[string]any{"scope": "inner"},
				"parameters":                  map[string]any{"group": map[string]any{"value": "[copyIndex()]"}, "count": map[string]any{"value": perGroup}},
				"template":                    inner,
			},
		}},
	}
	b, _ := json.MarshalIndent(outer, "", "  ")
	return b
}

var benchScope = template.Scope{TenantID: "t", SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "rg", Location: "westeurope"}

func expandBig(b *testing.B, data []byte) *template.Result {
	t, err := template.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	r, err := template.Expand(t, template.Options{Scope: benchScope, DeploymentName: "big"})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkExpand5000 expands a template of 5,000 resources.
func BenchmarkExpand5000(b *testing.B) {
	data := bigTemplate(10, 500)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := expandBig(b, data)
		if len(r.Resources) != 5010 {
			b.Fatalf("%d resources", len(r.Resources))
		}
	}
}

// BenchmarkExpandAndCheck5000 expands the template and evaluates every
// resource against the secure baseline, as steward template check does.
func BenchmarkExpandAndCheck5000(b *testing.B) {
	data := bigTemplate(10, 500)
	plan, err := scan.LoadPlan(scan.Policies{PolicyFS: baseline.Initiative(), DefinitionFS: baseline.Definitions()})
	if err != nil {
		b.Fatal(err)
	}
	if f := os.Getenv("STEWARD_BENCH_TEMPLATE"); f != "" {
		_ = os.WriteFile(f, data, 0o600)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := expandBig(b, data)
		recs := make([]scan.Record, 0, len(r.Resources))
		for _, res := range r.Resources {
			if res.Nested {
				continue
			}
			doc := map[string]any{"id": res.ID, "name": res.Name, "type": res.Type}
			for k, v := range res.Body {
				doc[k] = v
			}
			recs = append(recs, scan.Record{Doc: doc, Line: res.Pos.Line})
		}
		rep, err := scan.RunRecords(context.Background(), recs, plan, scan.Config{}, discard{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Resources != 5000 {
			b.Fatalf("scanned %d", rep.Resources)
		}
	}
}

type discard struct{}

func (discard) Finding(*scan.Finding) error       { return nil }
func (discard) Malformed(*scan.RecordError) error { return nil }
func (discard) Diff(*scan.DiffEntry) error        { return nil }
func (discard) Finish(*scan.Report) error         { return nil }
